"""Turn the site's records into the JSON Jira answers with, per deployment and API version.

What differs, and where the fact comes from:

- users: Cloud identifies them by ``accountId`` and may hide ``emailAddress`` (profile
  visibility); Data Center by ``name`` and ``key`` (developer.atlassian.com, "GDPR changes in
  Jira Cloud" / Jira Server REST reference);
- datetimes are rendered in the requesting user's time zone with a ``+hhmm`` offset
  (``2024-03-10T09:15:30.123-0700``), dates as ``yyyy-MM-dd``; agile sprint dates are UTC
  with ``Z``;
- ``description`` is wiki markup text in v2 and an ADF document in v3;
- the Sprint custom field is a list of objects on Cloud and a list of
  ``com.atlassian.greenhopper.service.sprint.Sprint@…[id=…,rapidViewId=…]`` strings on
  Data Center;
- ``parent`` links a story to its epic on Cloud; on Data Center only sub-tasks have one and
  epics are linked through the "Epic Link" custom field;
- changelog items carry ``fieldId`` (and ``tmpFromAccountId`` for user fields) on Cloud only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from syncd.sandbox.jira import texts
from syncd.sandbox.jira.data import F_EPIC_LINK, F_RANK, F_SPRINT, F_STORY_POINTS, JiraData
from syncd.sandbox.jira.model import (
    CLOUD_FIELDS,
    DC_FIELDS,
    ISSUE_TYPES,
    LINK_TYPES,
    PRIORITIES,
    RESOLUTIONS,
    STATUSES,
    ChangeItem,
    CustomFields,
    History,
    Issue,
    Project,
    Sprint,
    StatusCategory,
    Version,
)

# Fields a GET /issue returns by default ("*all"); "*navigable" leaves out the
# non-navigable ones (timetracking), as the legacy search's default does.
NON_NAVIGABLE = frozenset({"timetracking"})


@dataclass
class Renderer:
    data: JiraData
    cloud: bool
    base_url: str
    api: str  # "2" | "3" | "latest"

    def __post_init__(self) -> None:
        self.fields_ids: CustomFields = CLOUD_FIELDS if self.cloud else DC_FIELDS
        self.tz = ZoneInfo(self.data.users[self.data.api_user].time_zone)
        self.rest = f"{self.base_url}/rest/api/{self.api}"

    # -- scalars ---------------------------------------------------------------------------

    def dt(self, ms: int | None) -> str | None:
        if ms is None:
            return None
        moment = datetime.fromtimestamp(ms / 1000, self.tz)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}" + moment.strftime("%z")

    @staticmethod
    def dt_utc(ms: int | None) -> str | None:
        if ms is None:
            return None
        moment = datetime.fromtimestamp(ms / 1000, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"

    # -- users -----------------------------------------------------------------------------

    def avatar_urls(self, seed: str) -> dict[str, str]:
        url = f"{self.base_url}/secure/useravatar?ownerId={seed}"
        return {f"{n}x{n}": f"{url}&size={n}" for n in (48, 24, 16, 32)}

    def user_ref_id(self, index: int) -> str:
        user = self.data.users[index]
        return user.account_id if self.cloud else user.key

    def user(self, index: int | None) -> dict[str, Any] | None:
        if index is None:
            return None
        u = self.data.users[index]
        if self.cloud:
            out: dict[str, Any] = {
                "self": f"{self.rest}/user?accountId={u.account_id}",
                "accountId": u.account_id,
            }
            if u.email_visible:
                out["emailAddress"] = u.email
            out.update(
                avatarUrls=self.avatar_urls(u.account_id),
                displayName=u.display_name,
                active=u.active,
                timeZone=u.time_zone,
                accountType=u.account_type,
            )
            return out
        return {
            "self": f"{self.rest}/user?username={u.name}",
            "name": u.name,
            "key": u.key,
            "emailAddress": u.email,
            "avatarUrls": self.avatar_urls(u.key),
            "displayName": u.display_name,
            "active": u.active,
            "timeZone": u.time_zone,
        }

    def myself(self) -> dict[str, Any]:
        me = self.user(self.data.api_user) or {}
        me.update(
            locale="en_US",
            groups={"size": 2, "items": []},
            applicationRoles={"size": 1, "items": []},
            expand="groups,applicationRoles",
        )
        return me

    # -- catalogues ------------------------------------------------------------------------

    def status_category(self, cat: StatusCategory) -> dict[str, Any]:
        return {
            "self": f"{self.rest}/statuscategory/{cat.id}",
            "id": cat.id,
            "key": cat.key,
            "colorName": cat.color,
            "name": cat.name,
        }

    def status(self, name: str) -> dict[str, Any]:
        s = STATUSES[name]
        return {
            "self": f"{self.rest}/status/{s.id}",
            "description": s.description,
            "iconUrl": f"{self.base_url}/images/icons/statuses/generic.png",
            "name": s.name,
            "id": s.id,
            "statusCategory": self.status_category(s.category),
        }

    def issuetype(self, name: str) -> dict[str, Any]:
        t = ISSUE_TYPES[name]
        out: dict[str, Any] = {
            "self": f"{self.rest}/issuetype/{t.id}",
            "id": t.id,
            "description": t.description,
            "iconUrl": f"{self.base_url}/images/icons/issuetypes/{t.name.lower()}.svg",
            "name": t.name,
            "subtask": t.subtask,
            "avatarId": 10300 + int(t.id) % 100,
        }
        if self.cloud:
            out["hierarchyLevel"] = t.hierarchy_level
        return out

    def priority(self, name: str) -> dict[str, Any]:
        p = PRIORITIES[name]
        return {
            "self": f"{self.rest}/priority/{p.id}",
            "iconUrl": f"{self.base_url}/images/icons/priorities/{p.name.lower()}.svg",
            "name": p.name,
            "id": p.id,
        }

    def resolution(self, name: str | None) -> dict[str, Any] | None:
        if name is None:
            return None
        r = RESOLUTIONS[name]
        return {
            "self": f"{self.rest}/resolution/{r.id}",
            "id": r.id,
            "description": r.description,
            "name": r.name,
        }

    def link_type(self, name: str) -> dict[str, Any]:
        t = LINK_TYPES[name]
        return {
            "id": t.id,
            "name": t.name,
            "inward": t.inward,
            "outward": t.outward,
            "self": f"{self.rest}/issueLinkType/{t.id}",
        }

    # -- projects, versions, sprints -------------------------------------------------------

    def project_ref(self, project: Project) -> dict[str, Any]:
        out: dict[str, Any] = {
            "self": f"{self.rest}/project/{project.id}",
            "id": str(project.id),
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
            "avatarUrls": self.avatar_urls(f"project-{project.id}"),
        }
        if self.cloud:
            out["simplified"] = False
        return out

    def project(self, project: Project, expand: set[str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight"
        }
        out.update(self.project_ref(project))
        if self.cloud:
            out.update(style="classic", isPrivate=False, properties={})
        for part in expand or ():
            if part == "description":
                out["description"] = project.description
            elif part == "lead":
                out["lead"] = self.user(project.lead)
            elif part == "issueTypes":
                out["issueTypes"] = [self.issuetype(n) for n in ISSUE_TYPES]
            elif part == "projectKeys":
                out["projectKeys"] = [project.key]
        return out

    def project_full(self, project: Project) -> dict[str, Any]:
        """GET /project/{key}: the project with its lead, issue types and versions."""
        out = self.project(project, {"description", "lead", "issueTypes"})
        out["versions"] = [self.version(v) for v in self.data.versions_of(project)]
        out["components"] = []
        out["assigneeType"] = "UNASSIGNED"
        return out

    def version(self, v: Version, short: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "self": f"{self.rest}/version/{v.id}",
            "id": str(v.id),
            "description": v.description,
            "name": v.name,
            "archived": v.archived,
            "released": v.released,
        }
        if v.start_date and not short:
            out["startDate"] = v.start_date.isoformat()
        if v.release_date:
            out["releaseDate"] = v.release_date.isoformat()
        if not short:
            if v.release_date and not v.released:
                today = datetime.now(self.tz).date()
                out["overdue"] = v.release_date < today
            if v.release_date:
                out["userReleaseDate"] = v.release_date.strftime("%d/%b/%y")
            out["projectId"] = v.project_id
        return out

    def sprint(self, s: Sprint) -> dict[str, Any]:
        """Agile API shape (/rest/agile/1.0/sprint/{id})."""
        out: dict[str, Any] = {
            "id": s.id,
            "self": f"{self.base_url}/rest/agile/1.0/sprint/{s.id}",
            "state": s.state,
            "name": s.name,
        }
        if s.start is not None:
            out["startDate"] = self.dt_utc(s.start)
            out["endDate"] = self.dt_utc(s.end)
        if s.complete is not None:
            out["completeDate"] = self.dt_utc(s.complete)
        out["createdDate"] = self.dt_utc(s.created)
        out["originBoardId"] = s.board_id
        out["goal"] = s.goal
        return out

    def sprint_field(self, sprint_ids: tuple[int, ...]) -> list[Any] | None:
        if not sprint_ids:
            return None
        sprints = [self.data.sprints[i] for i in sprint_ids if i in self.data.sprints]
        if self.cloud:
            out = []
            for s in sprints:
                value: dict[str, Any] = {
                    "id": s.id,
                    "name": s.name,
                    "state": s.state,
                    "boardId": s.board_id,
                    "goal": s.goal,
                }
                if s.start is not None:
                    value["startDate"] = self.dt_utc(s.start)
                    value["endDate"] = self.dt_utc(s.end)
                if s.complete is not None:
                    value["completeDate"] = self.dt_utc(s.complete)
                out.append(value)
            return out
        return [self._dc_sprint_string(s) for s in sprints]

    def _dc_sprint_string(self, s: Sprint) -> str:
        def d(ms: int | None) -> str:
            return self.dt(ms) or "<null>"

        return (
            f"com.atlassian.greenhopper.service.sprint.Sprint@{s.id * 7919 + 0x1F3A:x}"
            f"[id={s.id},rapidViewId={s.board_id},state={s.state.upper()},name={s.name},"
            f"startDate={d(s.start)},endDate={d(s.end)},completeDate={d(s.complete)},"
            f"activatedDate={d(s.start if s.state != 'future' else None)},"
            f"sequence={s.sequence},goal={s.goal},"
            f"autoStartStop=false,synced=false]"
        )

    # -- issues ----------------------------------------------------------------------------

    def issue_ref(self, issue: Issue) -> dict[str, Any]:
        """The short form used inside links and parents."""
        return {
            "id": str(issue.id),
            "key": issue.key,
            "self": f"{self.rest}/issue/{issue.id}",
            "fields": {
                "summary": issue.summary,
                "status": self.status(issue.status),
                "priority": self.priority(issue.priority),
                "issuetype": self.issuetype(issue.type),
            },
        }

    def all_fields(self, issue: Issue) -> dict[str, Any]:
        """Every field of ``issue``, keyed by field id."""
        data, f = self.data, self.fields_ids
        project = data.projects[issue.project]
        paragraphs = (
            issue.description.split("\n\n")
            if issue.description is not None
            else texts.description_paragraphs(data.seed, issue.id)
        )
        parent = data.issues.get(issue.parent) if issue.parent is not None else None
        if parent is not None and not self.cloud and issue.type != "Sub-task":
            parent = None  # Data Center links stories to epics only through Epic Link
        epic = data.issues.get(issue.epic) if issue.epic is not None else None
        links = []
        for link in data.issue_links(issue.id):
            outward = link.outward == issue.id
            other = data.issues.get(link.inward if outward else link.outward)
            if other is None:
                continue
            entry: dict[str, Any] = {
                "id": str(link.id),
                "self": f"{self.rest}/issueLink/{link.id}",
                "type": self.link_type(link.type),
            }
            entry["outwardIssue" if outward else "inwardIssue"] = self.issue_ref(other)
            links.append(entry)
        subtasks = [
            self.issue_ref(i) for i in self.data.children_of(issue.id) if i.type == "Sub-task"
        ]
        spent = issue.time_spent
        timetracking: dict[str, Any] = {}
        if issue.original_estimate is not None:
            timetracking["originalEstimate"] = _duration(issue.original_estimate)
            timetracking["originalEstimateSeconds"] = issue.original_estimate
        if issue.remaining_estimate is not None:
            timetracking["remainingEstimate"] = _duration(issue.remaining_estimate)
            timetracking["remainingEstimateSeconds"] = issue.remaining_estimate
        if spent is not None:
            timetracking["timeSpent"] = _duration(spent)
            timetracking["timeSpentSeconds"] = spent
        progress_total = (spent or 0) + (issue.remaining_estimate or 0)
        progress: dict[str, Any] = {"progress": spent or 0, "total": progress_total}
        if progress_total:
            progress["percent"] = int(100 * (spent or 0) / progress_total)
        out: dict[str, Any] = {
            "summary": issue.summary,
            "description": (
                texts.description_adf(paragraphs)
                if self.api == "3"
                else texts.description_wiki(paragraphs)
            ),
            "issuetype": self.issuetype(issue.type),
            "project": self.project_ref(project),
            "status": self.status(issue.status),
            "priority": self.priority(issue.priority),
            "assignee": self.user(issue.assignee),
            "reporter": self.user(issue.reporter),
            "creator": self.user(issue.creator),
            "created": self.dt(issue.created),
            "updated": self.dt(issue.updated),
            "resolution": self.resolution(issue.resolution),
            "resolutiondate": self.dt(issue.resolved),
            "duedate": issue.due.isoformat() if issue.due else None,
            "labels": list(issue.labels),
            "fixVersions": [self.version(data.versions[v], short=True) for v in issue.fix_versions],
            "versions": [],
            "components": [],
            "issuelinks": links,
            "subtasks": subtasks,
            "timeoriginalestimate": issue.original_estimate,
            "timeestimate": issue.remaining_estimate,
            "timespent": spent,
            "aggregatetimeoriginalestimate": issue.original_estimate,
            "aggregatetimeestimate": issue.remaining_estimate,
            "aggregatetimespent": spent,
            "timetracking": timetracking,
            "progress": progress,
            "aggregateprogress": progress,
            "workratio": (
                int(100 * spent / issue.original_estimate)
                if spent and issue.original_estimate
                else -1
            ),
            "environment": None,
            "security": None,
            "lastViewed": None,
            "watches": {
                "self": f"{self.rest}/issue/{issue.key}/watchers",
                "watchCount": 1,
                "isWatching": False,
            },
            "votes": {
                "self": f"{self.rest}/issue/{issue.key}/votes",
                "votes": 0,
                "hasVoted": False,
            },
            f.sprint: self.sprint_field(issue.sprints),
            f.story_points: issue.story_points,
            f.epic_link: epic.key if epic is not None else None,
            f.rank: issue.rank,
        }
        if parent is not None:
            out["parent"] = self.issue_ref(parent)
        if self.cloud:
            out["statuscategorychangedate"] = self.dt(issue.status_changed)
            if f.legacy_story_points:
                out[f.legacy_story_points] = None
        elif f.epic_name:
            out[f.epic_name] = issue.summary if issue.type == "Epic" else None
        return out

    def issue(
        self,
        issue: Issue,
        wanted: FieldSelection,
        expand: set[str],
        changelog_cap: int | None,
    ) -> dict[str, Any]:
        """One issue as search and GET /issue return it.

        ``changelog_cap``: how many histories an embedded changelog holds at most (the most
        recent ones, newest first); ``None`` for all of them."""
        if wanted.only_id and not expand:
            return {"id": str(issue.id)}
        out: dict[str, Any] = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,"
            "versionedRepresentations",
            "id": str(issue.id),
            "self": f"{self.rest}/issue/{issue.id}",
            "key": issue.key,
        }
        all_fields = self.all_fields(issue)
        out["fields"] = {k: v for k, v in all_fields.items() if wanted.includes(k)}
        if "changelog" in expand:
            out["changelog"] = self.embedded_changelog(issue, changelog_cap)
        if "names" in expand:
            out["names"] = {k: self.field_name(k) for k in out["fields"]}
        return out

    def embedded_changelog(self, issue: Issue, cap: int | None) -> dict[str, Any]:
        histories = issue.history[::-1]
        if cap is not None:
            histories = histories[:cap]
        return {
            "startAt": 0,
            "maxResults": len(histories),
            "total": len(issue.history),
            "histories": [self.history(h) for h in histories],
        }

    def history(self, h: History) -> dict[str, Any]:
        return {
            "id": str(h.id),
            "author": self.user(h.author),
            "created": self.dt(h.created),
            "items": [self.change_item(i) for i in h.items],
        }

    def item_field(self, item: ChangeItem) -> tuple[str, str | None]:
        """(field name, field id) of a change item as this deployment names them."""
        name, field_id = item.field, item.field_id
        if name.startswith("@") or (field_id or "").startswith("@"):
            custom_name, custom_id = self._custom(field_id or name)
            field_id = custom_id
            if name.startswith("@"):
                name = custom_name
        return name, field_id

    def change_item(self, item: ChangeItem) -> dict[str, Any]:
        name, field_id = self.item_field(item)
        out: dict[str, Any] = {"field": name, "fieldtype": item.fieldtype}
        if self.cloud and field_id:
            out["fieldId"] = field_id
        user_field = (item.from_ or "").startswith("@u") or (item.to or "").startswith("@u")
        from_, to = self._user_value(item.from_), self._user_value(item.to)
        out.update(from_=from_, fromString=item.from_string, to=to, toString=item.to_string)
        out["from"] = out.pop("from_")
        if self.cloud and user_field:
            out["tmpFromAccountId"] = from_
            out["tmpToAccountId"] = to
        return out

    def _user_value(self, value: str | None) -> str | None:
        if value is not None and value.startswith("@u"):
            return self.user_ref_id(int(value[2:]))
        return value

    def _custom(self, token: str) -> tuple[str, str]:
        f = self.fields_ids
        table = {
            F_SPRINT: ("Sprint", f.sprint),
            F_STORY_POINTS: (
                "Story point estimate" if self.cloud else "Story Points",
                f.story_points,
            ),
            F_RANK: ("Rank", f.rank),
            F_EPIC_LINK: ("Epic Link", f.epic_link),
        }
        return table[token]

    # -- field catalogue -------------------------------------------------------------------

    def field_name(self, field_id: str) -> str:
        if not hasattr(self, "_names"):
            self._names = {e["id"]: str(e["name"]) for e in self.field_catalogue()}
        return self._names.get(field_id, field_id)

    def field_catalogue(self) -> list[dict[str, Any]]:
        """GET /field: every field with its schema; custom fields are found here by
        ``schema.custom`` (the plugin type), which is stable across sites, unlike ids."""
        f = self.fields_ids
        system = [
            ("summary", "Summary", {"type": "string", "system": "summary"}),
            ("description", "Description", {"type": "string", "system": "description"}),
            ("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}),
            ("project", "Project", {"type": "project", "system": "project"}),
            ("status", "Status", {"type": "status", "system": "status"}),
            ("priority", "Priority", {"type": "priority", "system": "priority"}),
            ("assignee", "Assignee", {"type": "user", "system": "assignee"}),
            ("reporter", "Reporter", {"type": "user", "system": "reporter"}),
            ("creator", "Creator", {"type": "user", "system": "creator"}),
            ("created", "Created", {"type": "datetime", "system": "created"}),
            ("updated", "Updated", {"type": "datetime", "system": "updated"}),
            ("resolution", "Resolution", {"type": "resolution", "system": "resolution"}),
            ("resolutiondate", "Resolved", {"type": "datetime", "system": "resolutiondate"}),
            ("duedate", "Due date", {"type": "date", "system": "duedate"}),
            ("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}),
            (
                "fixVersions",
                "Fix versions",
                {"type": "array", "items": "version", "system": "fixVersions"},
            ),
            (
                "versions",
                "Affects versions",
                {"type": "array", "items": "version", "system": "versions"},
            ),
            (
                "components",
                "Components",
                {"type": "array", "items": "component", "system": "components"},
            ),
            (
                "issuelinks",
                "Linked Issues",
                {"type": "array", "items": "issuelinks", "system": "issuelinks"},
            ),
            (
                "subtasks",
                "Sub-tasks",
                {"type": "array", "items": "issuelinks", "system": "subtasks"},
            ),
            ("parent", "Parent", {"type": "issuelink", "system": "parent"}),
            (
                "timeoriginalestimate",
                "Original estimate",
                {"type": "number", "system": "timeoriginalestimate"},
            ),
            (
                "timeestimate",
                "Remaining Estimate",
                {"type": "number", "system": "timeestimate"},
            ),
            ("timespent", "Time Spent", {"type": "number", "system": "timespent"}),
            (
                "timetracking",
                "Time tracking",
                {"type": "timetracking", "system": "timetracking"},
            ),
            ("environment", "Environment", {"type": "string", "system": "environment"}),
            ("watches", "Watchers", {"type": "watches", "system": "watches"}),
            ("votes", "Votes", {"type": "votes", "system": "votes"}),
        ]
        if self.cloud:
            system.append(
                (
                    "statuscategorychangedate",
                    "Status Category Changed",
                    {"type": "datetime", "system": "statuscategorychangedate"},
                )
            )
        clause_names = {
            "issuetype": ["issuetype", "type"],
            "resolutiondate": ["resolutiondate", "resolved"],
            "duedate": ["duedate", "due"],
            "fixVersions": ["fixVersion"],
            "versions": ["affectedVersion"],
            "components": ["component"],
            "issuelinks": ["issueLink"],
            "timeoriginalestimate": ["originalEstimate", "timeoriginalestimate"],
            "timeestimate": ["remainingEstimate", "timeestimate"],
            "timespent": ["timespent"],
            "watches": ["watchers"],
        }
        out: list[dict[str, Any]] = []
        for field_id, name, schema in system:
            out.append(
                {
                    "id": field_id,
                    "key": field_id,
                    "name": name,
                    "custom": False,
                    "orderable": field_id not in ("created", "updated", "status", "creator"),
                    "navigable": field_id not in NON_NAVIGABLE,
                    "searchable": True,
                    "clauseNames": clause_names.get(field_id, [field_id]),
                    "schema": schema,
                }
            )
        customs: list[tuple[str, str, str, dict[str, Any]]] = [
            (
                f.sprint,
                "Sprint",
                "com.pyxis.greenhopper.jira:gh-sprint",
                {"type": "array", "items": "json" if self.cloud else "string"},
            ),
            (
                f.story_points,
                "Story point estimate" if self.cloud else "Story Points",
                "com.pyxis.greenhopper.jira:jsw-story-points"
                if self.cloud
                else "com.atlassian.jira.plugin.system.customfieldtypes:float",
                {"type": "number"},
            ),
            (
                f.epic_link,
                "Epic Link",
                "com.pyxis.greenhopper.jira:gh-epic-link",
                {"type": "any"},
            ),
            (f.rank, "Rank", "com.pyxis.greenhopper.jira:gh-lexo-rank", {"type": "any"}),
        ]
        if f.legacy_story_points:
            customs.append(
                (
                    f.legacy_story_points,
                    "Story Points",
                    "com.atlassian.jira.plugin.system.customfieldtypes:float",
                    {"type": "number"},
                )
            )
        if f.epic_name:
            customs.append(
                (
                    f.epic_name,
                    "Epic Name",
                    "com.pyxis.greenhopper.jira:gh-epic-label",
                    {"type": "string"},
                )
            )
        for field_id, name, plugin, schema in customs:
            number = int(field_id.removeprefix("customfield_"))
            entry: dict[str, Any] = {
                "id": field_id,
                "key": field_id,
                "name": name,
                "untranslatedName": name,
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{number}]", name],
                "schema": {**schema, "custom": plugin, "customId": number},
            }
            out.append(entry)
        return out


@dataclass(frozen=True)
class FieldSelection:
    """The ``fields`` parameter: ``*all``, ``*navigable``, ids, and ``-id`` exclusions
    (Jira REST reference, "fields" query parameter of GET /issue and the searches)."""

    all: bool
    navigable: bool
    include: frozenset[str]
    exclude: frozenset[str]
    only_id: bool  # nothing but "id" asked for (the search/jql default)

    @classmethod
    def parse(cls, values: list[str] | None, default: str) -> FieldSelection:
        tokens: list[str] = []
        for value in values if values is not None else [default]:
            tokens += [t.strip() for t in str(value).split(",") if t.strip()]
        include = {t for t in tokens if not t.startswith("-") and not t.startswith("*")}
        exclude = {t[1:] for t in tokens if t.startswith("-")}
        return cls(
            all="*all" in tokens,
            navigable="*navigable" in tokens,
            include=frozenset(include),
            exclude=frozenset(exclude),
            only_id=not ("*all" in tokens or "*navigable" in tokens) and include <= {"id"},
        )

    def includes(self, field_id: str) -> bool:
        if field_id in self.exclude:
            return False
        if self.all or field_id in self.include:
            return True
        return self.navigable and field_id not in NON_NAVIGABLE

    @property
    def only_ids_or_keys(self) -> bool:
        """Whether only id/key are asked for: Cloud then allows 5000 issues per page."""
        return not (self.all or self.navigable) and self.include <= {"id", "key"}


def _duration(seconds: int) -> str:
    """Jira's display form for durations with its default 8h day and 5d week: "1w 2d 3h"."""
    parts = []
    minutes = seconds // 60
    for unit, size in (("w", 5 * 8 * 60), ("d", 8 * 60), ("h", 60), ("m", 1)):
        if minutes >= size:
            parts.append(f"{minutes // size}{unit}")
            minutes %= size
    return " ".join(parts) or "0m"
