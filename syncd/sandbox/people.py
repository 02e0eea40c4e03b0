"""The humans of the sandbox's fictional company, shared by the simulated Jira and GitHub.

The two simulated services generate their data independently (neither imports the other), yet
syncd must be able to recognise one person across both tools. They agree through this fixed
list: a person's work email is ``firstname.lastname@acme.example`` (ASCII-folded), the same on
both sides, and ``in_jira`` / ``in_github`` say which tool knows the person, so that some
people exist in only one tool (as in real companies: contractors without Jira, managers
without GitHub).

Traps kept on purpose, because real data has them:
- display names with accents and non-Latin scripts (the email stays ASCII);
- GitHub logins that look nothing like the name (``zz-top-dev``), and two people with the same
  first name;
- nothing here is random: order and content are the contract. Append, never reorder.
"""

from __future__ import annotations

from dataclasses import dataclass

EMAIL_DOMAIN = "acme.example"


@dataclass(frozen=True)
class Person:
    display_name: str  # as shown in both tools, may contain non-ASCII
    first: str  # ASCII-folded, lower case: the email's local part is f"{first}.{last}"
    last: str
    github_login: str
    jira_name: str  # Data Center style username; Jira Cloud derives accountId from the email
    in_jira: bool = True
    in_github: bool = True
    time_zone: str = "UTC"  # IANA name, for Jira's per-user time zone

    @property
    def email(self) -> str:
        return f"{self.first}.{self.last}@{EMAIL_DOMAIN}"


def _p(
    display: str,
    first: str,
    last: str,
    login: str,
    jira: str,
    tz: str = "UTC",
    *,
    jira_only: bool = False,
    github_only: bool = False,
) -> Person:
    return Person(
        display_name=display,
        first=first,
        last=last,
        github_login=login,
        jira_name=jira,
        in_jira=not github_only,
        in_github=not jira_only,
        time_zone=tz,
    )


PEOPLE: tuple[Person, ...] = (
    _p("Alice Johnson", "alice", "johnson", "alicej", "ajohnson", "America/New_York"),
    _p("Bob Smith", "bob", "smith", "bsmith-dev", "bsmith", "America/Chicago"),
    _p("Carla Méndez", "carla", "mendez", "carlamendez", "cmendez", "Europe/Madrid"),
    _p("David Okafor", "david", "okafor", "dokafor", "dokafor", "Africa/Lagos"),
    _p("Emma Schulz", "emma", "schulz", "emma-schulz", "eschulz", "Europe/Berlin"),
    _p("François Dubois", "francois", "dubois", "fdubois", "fdubois", "Europe/Paris"),
    _p("Grace Lee", "grace", "lee", "gracelee", "glee", "Asia/Seoul"),
    _p("Hiroshi Tanaka", "hiroshi", "tanaka", "htanaka", "htanaka", "Asia/Tokyo"),
    _p("Isabel Rossi", "isabel", "rossi", "irossi", "irossi", "Europe/Rome"),
    _p("Jakub Nowak", "jakub", "nowak", "jnowak", "jnowak", "Europe/Warsaw"),
    _p("Kavya Reddy", "kavya", "reddy", "kavyareddy", "kreddy", "Asia/Kolkata"),
    _p("Liam O'Brien", "liam", "obrien", "liamob", "lobrien", "Europe/Dublin"),
    _p("María José García", "maria", "garcia", "mjgarcia", "mgarcia", "America/Mexico_City"),
    _p("Noah Williams", "noah", "williams", "zz-top-dev", "nwilliams", "America/Los_Angeles"),
    _p("Olga Ivanova", "olga", "ivanova", "olgai", "oivanova", "Europe/Helsinki"),
    _p("Pedro Alves", "pedro", "alves", "palves", "palves", "America/Sao_Paulo"),
    _p("Qing Wang", "qing", "wang", "qwang", "qwang", "Asia/Shanghai"),
    _p("Rachel Cohen", "rachel", "cohen", "rcohen", "rcohen", "Asia/Jerusalem"),
    _p("Sven Larsson", "sven", "larsson", "svenl", "slarsson", "Europe/Stockholm"),
    _p("Tomás Novák", "tomas", "novak", "tnovak", "tnovak", "Europe/Prague"),
    _p("Uma Patel", "uma", "patel", "umapatel", "upatel", "Europe/London"),
    _p("Victor Huang", "victor", "huang", "vhuang", "vhuang", "Asia/Singapore"),
    _p("Wiktoria Zielińska", "wiktoria", "zielinska", "wzielinska", "wzielinska", "Europe/Warsaw"),
    _p("Xavier Martin", "xavier", "martin", "xmartin", "xmartin", "Europe/Paris"),
    _p("Yuki Sato", "yuki", "sato", "yukisato", "ysato", "Asia/Tokyo"),
    _p("Zoë Müller", "zoe", "muller", "zoemuller", "zmuller", "Europe/Zurich"),
    _p("Ahmed Hassan", "ahmed", "hassan", "ahassan", "ahassan", "Africa/Cairo"),
    _p("Alice Nguyen", "alice", "nguyen", "alice-ng", "anguyen", "Asia/Ho_Chi_Minh"),
    _p("Björn Eriksson", "bjorn", "eriksson", "beriksson", "beriksson", "Europe/Stockholm"),
    _p("Chloé Lambert", "chloe", "lambert", "clambert", "clambert", "Europe/Brussels"),
    _p("Дмитрий Петров", "dmitry", "petrov", "dpetrov", "dpetrov", "Europe/Moscow"),
    _p("Elif Y\u0131lmaz", "elif", "yilmaz", "elify", "eyilmaz", "Europe/Istanbul"),
    _p("李娜", "na", "li", "lina-dev", "nli", "Asia/Shanghai"),
    _p("Priya Sharma", "priya", "sharma", "psharma", "psharma", "Asia/Kolkata"),
    # Jira only: managers and stakeholders who never touch GitHub.
    _p("Helen Carter", "helen", "carter", "hcarter", "hcarter", "Europe/London", jira_only=True),
    _p("Marcus Brown", "marcus", "brown", "mbrown", "mbrown", "America/New_York", jira_only=True),
    _p(
        "Sophie Laurent",
        "sophie",
        "laurent",
        "slaurent",
        "slaurent",
        "Europe/Paris",
        jira_only=True,
    ),
    # GitHub only: contractors and open-source contributors without a Jira account.
    _p("Kenji Mori", "kenji", "mori", "kmori-oss", "kmori", "Asia/Tokyo", github_only=True),
    _p("Lena Fischer", "lena", "fischer", "lenaf", "lfischer", "Europe/Berlin", github_only=True),
    _p("Omar Haddad", "omar", "haddad", "ohaddad", "ohaddad", "Asia/Dubai", github_only=True),
)


def jira_people() -> tuple[Person, ...]:
    return tuple(p for p in PEOPLE if p.in_jira)


def github_people() -> tuple[Person, ...]:
    return tuple(p for p in PEOPLE if p.in_github)
