"""A small subset of JQL, with the real language's traps, and 400s for everything else.

Understood:

- ``project = X``, ``project in (X, Y)`` (key, name or id); an unknown project is a 400,
  as in Jira ("The value 'X' does not exist for the field 'project'.");
- ``key``/``issuekey`` ``=`` / ``in (...)``: a key that does not exist (or was deleted) is
  a 400 ("An issue with key 'X-9' does not exist for field 'key'."); an old key of a moved
  issue still resolves;
- ``id = N`` / ``id in (...)`` (ids that do not exist simply match nothing);
- ``updated`` / ``created`` with ``>=``, ``>``, ``<=``, ``<``, ``=`` against
  ``"yyyy-MM-dd HH:mm"``, ``"yyyy/MM/dd HH:mm"``, ``"yyyy-MM-dd"``, ``"yyyy/MM/dd"`` or a
  relative period (``-5d``, ``-2h``, ``-30m``, ``-1w``);
- ``AND``; ``ORDER BY`` ``updated``/``created``/``key``/``id`` ``ASC``/``DESC`` (several keys).

The traps (support.atlassian.com, "JQL fields" > Updated / Created):

- a date literal has minute granularity: seconds are not accepted (400), so a watermark
  of 10:05:40 can only be asked for as "10:05", which also matches 10:05:00-10:05:39;
- a date literal is read in the *requesting user's* time zone (here America/Los_Angeles,
  with DST), not UTC: a client that formats a UTC time gets a window hours off;
- comparison is against the exact instant the literal denotes (``updated > "10:05"``
  matches an issue updated at 10:05:30).

Anything else (OR, NOT, functions, other fields, parentheses) is answered with a 400 in
Jira's error shape, saying the sandbox does not support it, rather than being guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from syncd.sandbox.jira.data import JiraData
from syncd.sandbox.jira.model import Issue

_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
_PERIOD = re.compile(r"^([-+]?)(\d+)([wdhm])$")
_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-\d+$")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>>=|<=|!=|!~|=|>|<|~|\(|\)|,)
      | (?P<word>[^\s=<>!~(),"']+)
    )""",
    re.VERBOSE,
)


class JqlError(ValueError):
    """The query cannot be run; ``messages`` go into Jira's ``errorMessages``."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True)
class Query:
    predicates: tuple[Callable[[Issue], bool], ...]
    order: tuple[tuple[str, bool], ...]  # (field, descending)
    bounded: bool  # has at least one restriction (search/jql refuses unbounded queries)

    def run(self, data: JiraData) -> list[Issue]:
        issues = [i for i in data.issues.values() if all(p(i) for p in self.predicates)]
        order = self.order or (("id", True),)  # no ORDER BY: newest first
        for field_name, descending in reversed(order):
            issues.sort(key=_SORT_KEYS[field_name], reverse=descending)
        return issues


_SORT_KEYS: dict[str, Callable[[Issue], Any]] = {
    "updated": lambda i: i.updated,
    "created": lambda i: i.created,
    "id": lambda i: i.id,
    "key": lambda i: (i.project, i.number),
}


@dataclass
class _Token:
    kind: str  # "str" | "op" | "word"
    text: str
    pos: int

    @property
    def value(self) -> str:
        if self.kind == "str":
            return re.sub(r"\\(.)", r"\1", self.text[1:-1])
        return self.text


def _tokenize(jql: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(jql):
        if jql[pos:].strip() == "":
            break
        match = _TOKEN.match(jql, pos)
        if not match or match.end() == pos:
            raise JqlError(
                f"Error in the JQL Query: The character '{jql[pos]}' is a reserved JQL "
                f"character. You must enclose it in a string or use the escape '\\u{ord(jql[pos]):04x}' "
                f"instead. (line 1, character {pos + 1})"
            )
        kind = match.lastgroup or "word"
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, jql: str, data: JiraData, tz: ZoneInfo, now_ms: int) -> None:
        self.jql = jql
        self.tokens = _tokenize(jql)
        self.i = 0
        self.data = data
        self.tz = tz
        self.now_ms = now_ms

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self, expected: str) -> _Token:
        token = self.peek()
        if token is None:
            raise JqlError(
                f"Error in the JQL Query: Expecting {expected} but reached the end of the query."
            )
        self.i += 1
        return token

    def unsupported(self, what: str, token: _Token | None = None) -> JqlError:
        where = f" (line 1, character {token.pos + 1})" if token else ""
        return JqlError(
            f"Error in the JQL Query: the sandbox's JQL subset does not support {what}{where}."
        )

    def parse(self) -> Query:
        predicates: list[Callable[[Issue], bool]] = []
        order: list[tuple[str, bool]] = []
        while self.peek() is not None:
            token = self.peek()
            assert token is not None
            if token.kind == "word" and token.text.lower() == "order":
                order = self.order_by()
                break
            predicates.append(self.clause())
            token = self.peek()
            if token is None:
                break
            word = token.text.lower() if token.kind == "word" else ""
            if word == "and":
                self.i += 1
                continue
            if word == "order":
                continue
            if word in ("or", "not"):
                raise self.unsupported(f"'{token.text.upper()}'", token)
            raise JqlError(
                f"Error in the JQL Query: Expecting either 'OR' or 'AND' but got '{token.text}'. "
                f"(line 1, character {token.pos + 1})"
            )
        return Query(tuple(predicates), tuple(order), bounded=bool(predicates))

    def order_by(self) -> list[tuple[str, bool]]:
        self.next("'ORDER'")
        by = self.next("'BY'")
        if by.text.lower() != "by":
            raise JqlError(f"Error in the JQL Query: Expecting 'by' but got '{by.text}'.")
        order: list[tuple[str, bool]] = []
        while True:
            field_token = self.next("a field name")
            name = field_token.value.lower()
            if name == "issuekey":
                name = "key"
            if name not in _SORT_KEYS:
                if name in _KNOWN_FIELDS:
                    raise self.unsupported(f"ordering by '{field_token.value}'", field_token)
                raise JqlError(f"Not able to sort using field '{field_token.value}'.")
            descending = name in ("updated", "created")  # Jira's default direction for dates
            token = self.peek()
            if token is not None and token.kind == "word" and token.text.lower() in ("asc", "desc"):
                descending = token.text.lower() == "desc"
                self.i += 1
            order.append((name, descending))
            token = self.peek()
            if token is None:
                return order
            if token.text != ",":
                raise JqlError(
                    f"Error in the JQL Query: Expecting ',' but got '{token.text}'. "
                    f"(line 1, character {token.pos + 1})"
                )
            self.i += 1

    def clause(self) -> Callable[[Issue], bool]:
        token = self.next("a field name")
        if token.text == "(":
            raise self.unsupported("parentheses", token)
        name = token.value.lower()
        if name not in _KNOWN_FIELDS:
            if token.kind == "word" and token.text.endswith("()"):
                raise self.unsupported("functions", token)
            raise JqlError(
                f"Field '{token.value}' does not exist or you do not have permission to view it."
            )
        op_token = self.next("an operator")
        op = op_token.text.lower() if op_token.kind in ("op", "word") else ""
        if op == "not":
            raise self.unsupported("'NOT IN'", op_token)
        if name in ("project", "key", "issuekey", "id"):
            if op == "=":
                values = [self.value()]
            elif op == "in":
                values = self.value_list()
            else:
                raise self.unsupported(
                    f"the operator '{op_token.text}' on '{token.value}'", op_token
                )
            if name == "project":
                return self.project_clause(values)
            if name == "id":
                wanted_ids = set()
                for v in values:
                    if not v.isdigit():
                        raise JqlError(f"The value '{v}' for field 'id' is invalid.")
                    wanted_ids.add(int(v))
                return lambda i: i.id in wanted_ids
            return self.key_clause(values)
        if name in ("updated", "created"):
            if op not in (">=", ">", "<=", "<", "="):
                raise self.unsupported(
                    f"the operator '{op_token.text}' on '{token.value}'", op_token
                )
            literal = self.value()
            at = self.date(name, literal)
            attr = name
            compare: dict[str, Callable[[int], bool]] = {
                ">=": lambda v: v >= at,
                ">": lambda v: v > at,
                "<=": lambda v: v <= at,
                "<": lambda v: v < at,
                "=": lambda v: v == at,
            }
            check = compare[op]
            return lambda i: check(getattr(i, attr))
        raise self.unsupported(f"the field '{token.value}'", token)

    def value(self) -> str:
        token = self.next("a value")
        if token.kind == "op":
            raise JqlError(
                f"Error in the JQL Query: Expecting either a value, list or function but got "
                f"'{token.text}'. (line 1, character {token.pos + 1})"
            )
        if (token.kind == "word" and token.text.endswith("()")) or (
            token.kind == "word" and self.peek() is not None and self.peek().text == "("  # type: ignore[union-attr]
        ):
            raise self.unsupported("functions", token)
        return token.value

    def value_list(self) -> list[str]:
        opening = self.next("'('")
        if opening.text != "(":
            raise JqlError(
                f"Error in the JQL Query: Expecting '(' but got '{opening.text}'. "
                f"(line 1, character {opening.pos + 1})"
            )
        values = [self.value()]
        while True:
            token = self.next("')'")
            if token.text == ")":
                return values
            if token.text != ",":
                raise JqlError(
                    f"Error in the JQL Query: Expecting ')' or ',' but got '{token.text}'. "
                    f"(line 1, character {token.pos + 1})"
                )
            values.append(self.value())

    def project_clause(self, values: list[str]) -> Callable[[Issue], bool]:
        keys = set()
        errors = []
        for value in values:
            project = self.data.find_project(value) or next(
                (p for p in self.data.projects.values() if p.name.lower() == value.lower()), None
            )
            if project is None:
                errors.append(f"The value '{value}' does not exist for the field 'project'.")
            else:
                keys.add(project.key)
        if errors:
            raise JqlError(*errors)
        return lambda i: i.project in keys

    def key_clause(self, values: list[str]) -> Callable[[Issue], bool]:
        ids = set()
        errors = []
        for value in values:
            if value.isdigit():
                # Jira accepts issue ids where a key is expected.
                if int(value) in self.data.issues:
                    ids.add(int(value))
                    continue
            elif not _KEY.match(value.upper()):
                errors.append(f"The issue key '{value}' for field 'key' is invalid.")
                continue
            issue = self.data.find_issue(value)
            if issue is None:
                errors.append(f"An issue with key '{value}' does not exist for field 'key'.")
            else:
                ids.add(issue.id)
        if errors:
            raise JqlError(*errors)
        return lambda i: i.id in ids

    def date(self, field_name: str, literal: str) -> int:
        period = _PERIOD.match(literal.strip())
        if period:
            sign = -1 if period.group(1) == "-" else 1
            unit = {"w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000}
            return self.now_ms + sign * int(period.group(2)) * unit[period.group(3)]
        for fmt in _DATE_FORMATS:
            try:
                local = datetime.strptime(literal.strip(), fmt)
            except ValueError:
                continue
            # Read in the user's zone. fold=0: a wall time repeated when DST ends means its
            # first (summer-time) occurrence; one skipped when DST starts lands an hour later,
            # as with Java's lenient calendar.
            return int(local.replace(tzinfo=self.tz, fold=0).timestamp() * 1000)
        raise JqlError(
            f"Date value '{literal}' for field '{field_name}' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'."
        )


# Field names Jira knows; those outside our subset get an honest "not supported" 400
# instead of Jira's "does not exist".
_KNOWN_FIELDS = frozenset(
    {
        "project", "key", "issuekey", "id", "updated", "created", "status", "assignee",
        "reporter", "type", "issuetype", "priority", "resolution", "resolved", "due",
        "duedate", "labels", "sprint", "fixversion", "parent", "summary", "text",
        "statuscategory", "component", "epic link", "creator",
    }
)  # fmt: skip


def parse(jql: str, data: JiraData, tz: ZoneInfo, now_ms: int) -> Query:
    """Parse ``jql`` against ``data`` (names resolve now, as Jira validates them up front)."""
    return _Parser(jql, data, tz, now_ms).parse()
