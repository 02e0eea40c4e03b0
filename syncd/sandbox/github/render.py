"""JSON representations, field for field as GitHub's REST API (version 2022-11-28) sends them.

Shapes follow the OpenAPI description (github/rest-api-description) and the examples in
docs.github.com. The differences between a list item and the single resource are kept,
because clients trip on them:

- ``GET /repos/{o}/{r}/pulls`` items are "pull-request-simple": no ``merged``,
  ``mergeable``, ``comments``, ``commits``, ``additions``, ``deletions``, ``changed_files``;
  only ``GET /pulls/{n}`` has them.
- Users inside other objects are "simple users": no ``name``, no ``email``; those come from
  ``GET /users/{login}``, and ``email`` there is ``null`` unless the person made it public.
- ``GET /issues`` items that are pull requests carry a ``pull_request`` object (with
  ``merged_at``) and the *issue* id, not the pull request's id.
- ``closed_by`` is only on the single issue; ``stats`` and ``files`` only on the single
  commit.

URLs are built on the address the client used (GitHub Enterprise Server layout): API under
``{host}/api/v3``, web pages under ``{host}/``.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .model import Commit, Issue, Label, Milestone, PullRequest, Repo, Review, User

API_PREFIX = "/api/v3"
Json = dict[str, Any]


def iso(ts: int | None) -> str | None:
    """GitHub's timestamp form: ISO 8601, UTC, seconds, ``Z``."""
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _node(prefix: str, number: int) -> str:
    return f"{prefix}_kwDO{number:010X}"


@dataclass(frozen=True)
class Urls:
    web: str  # "http://127.0.0.1:8080"

    @property
    def api(self) -> str:
        return self.web + API_PREFIX

    def repo_api(self, repo: Repo) -> str:
        return f"{self.api}/repos/{repo.full_name}"

    def repo_web(self, repo: Repo) -> str:
        return f"{self.web}/{repo.full_name}"


class Renderer:
    """Renders model objects for one request (URLs depend on the host the client used).
    Caches users and the repository object, which appear many times in one page."""

    def __init__(self, urls: Urls, members: set[str]) -> None:
        self.urls = urls
        self.members = members  # logins with write access: author_association MEMBER
        self._users: dict[int, Json] = {}
        self._repos: dict[int, Json] = {}

    # -- users ----------------------------------------------------------------------------

    def user(self, user: User | None) -> Json | None:
        if user is None:
            return None
        cached = self._users.get(user.id)
        if cached is not None:
            return cached
        api = f"{self.urls.api}/users/{quote(user.login)}"
        result = {
            "login": user.login,
            "id": user.id,
            "node_id": user.node_id,
            "avatar_url": f"{self.urls.web}/avatars/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.urls.web}/{quote(user.login)}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": user.site_admin,
        }
        self._users[user.id] = result
        return result

    def full_user(self, user: User, private: bool = False) -> Json:
        """``GET /users/{login}``; ``private`` adds what ``GET /user`` shows its owner."""
        result = dict(self.user(user) or {})
        result.update(
            {
                "name": user.name,
                "company": user.company,
                "blog": "",
                "location": user.location,
                "email": user.public_email,
                "hireable": None,
                "bio": None,
                "twitter_username": None,
                "public_repos": 0,
                "public_gists": 0,
                "followers": user.id % 97,
                "following": user.id % 13,
                "created_at": iso(user.created_at),
                "updated_at": iso(user.updated_at),
            }
        )
        if private:
            result.update(
                {
                    "private_gists": 0,
                    "total_private_repos": 0,
                    "owned_private_repos": 0,
                    "disk_usage": 0,
                    "collaborators": 0,
                    "two_factor_authentication": True,
                    "plan": {
                        "name": "enterprise",
                        "space": 976562499,
                        "private_repos": 9999,
                        "collaborators": 0,
                    },
                }
            )
        return result

    def association(self, user: User | None) -> str:
        if user is None or user.login == "ghost":
            return "NONE"
        if user.type == "Bot":
            return "CONTRIBUTOR"
        return "MEMBER" if user.login in self.members else "CONTRIBUTOR"

    # -- repositories ---------------------------------------------------------------------

    def repo(self, repo: Repo, open_issues: int = 0) -> Json:
        cached = self._repos.get(repo.id)
        if cached is not None:
            return cached
        api = self.urls.repo_api(repo)
        result: Json = {
            "id": repo.id,
            "node_id": _node("R", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": True,
            "owner": self.user(repo.owner),
            "html_url": self.urls.repo_web(repo),
            "description": repo.description,
            "fork": False,
            "url": api,
        }
        for name, suffix in _REPO_URL_TEMPLATES:
            result[name] = f"{api}/{suffix}"
        host = self.urls.web.split("://", 1)[-1]
        result.update(
            {
                "created_at": iso(repo.created_at),
                "updated_at": iso(repo.updated_at),
                "pushed_at": iso(repo.pushed_at),
                "git_url": f"git://{host}/{repo.full_name}.git",
                "ssh_url": f"git@{host.split(':')[0]}:{repo.full_name}.git",
                "clone_url": f"{self.urls.repo_web(repo)}.git",
                "svn_url": self.urls.repo_web(repo),
                "homepage": None,
                "size": len(repo.commits) // 10,
                "stargazers_count": repo.id % 50,
                "watchers_count": repo.id % 50,
                "language": repo.language,
                "has_issues": repo.has_issues,
                "has_projects": True,
                "has_downloads": True,
                "has_wiki": False,
                "has_pages": False,
                "has_discussions": False,
                "forks_count": 0,
                "mirror_url": None,
                "archived": False,
                "disabled": False,
                # GitHub counts open pull requests as open issues here.
                "open_issues_count": open_issues,
                "license": None,
                "allow_forking": False,
                "is_template": False,
                "web_commit_signoff_required": False,
                "topics": list(repo.topics),
                "visibility": "private",
                "forks": 0,
                "open_issues": open_issues,
                "watchers": repo.id % 50,
                "default_branch": repo.default_branch,
                "permissions": {
                    "admin": False,
                    "maintain": False,
                    "push": False,
                    "triage": True,
                    "pull": True,
                },
            }
        )
        self._repos[repo.id] = result
        return result

    def full_repo(self, repo: Repo, open_issues: int) -> Json:
        result = dict(self.repo(repo, open_issues))
        result.update(
            {
                "open_issues_count": open_issues,
                "open_issues": open_issues,
                "organization": self.user(repo.owner)
                if repo.owner.type == "Organization"
                else None,
                "network_count": 0,
                "subscribers_count": 3 + repo.id % 20,
                "allow_squash_merge": True,
                "allow_merge_commit": repo.merge_style == "merge",
                "allow_rebase_merge": False,
                "allow_auto_merge": False,
                "delete_branch_on_merge": False,
            }
        )
        return result

    # -- labels and milestones ------------------------------------------------------------

    def label(self, repo: Repo, label: Label) -> Json:
        return {
            "id": label.id,
            "node_id": _node("LA", label.id),
            "url": f"{self.urls.repo_api(repo)}/labels/{quote(label.name)}",
            "name": label.name,
            "color": label.color,
            "default": label.default,
            "description": label.description,
        }

    def milestone(
        self, repo: Repo, m: Milestone | None, counts: dict[int, list[int]]
    ) -> Json | None:
        if m is None:
            return None
        api = f"{self.urls.repo_api(repo)}/milestones/{m.number}"
        open_count, closed_count = counts.get(m.number, (0, 0))
        return {
            "url": api,
            "html_url": f"{self.urls.repo_web(repo)}/milestone/{m.number}",
            "labels_url": f"{api}/labels",
            "id": m.id,
            "node_id": _node("MI", m.id),
            "number": m.number,
            "title": m.title,
            "description": m.description,
            "creator": self.user(m.creator),
            "open_issues": open_count,
            "closed_issues": closed_count,
            "state": m.state,
            "created_at": iso(m.created_at),
            "updated_at": iso(m.updated_at),
            "due_on": iso(m.due_on),
            "closed_at": iso(m.closed_at),
        }

    # -- issues ---------------------------------------------------------------------------

    def issue(
        self,
        repo: Repo,
        item: Issue | PullRequest,
        counts: dict[int, list[int]],
        detail: bool = False,
    ) -> Json:
        """An issue, or a pull request as the issues API shows it."""
        is_pull = isinstance(item, PullRequest)
        api = f"{self.urls.repo_api(repo)}/issues/{item.number}"
        web = f"{self.urls.repo_web(repo)}/{'pull' if is_pull else 'issues'}/{item.number}"
        item_id = item.issue_id if isinstance(item, PullRequest) else item.id
        assignees = [self.user(u) for u in item.assignees]
        result: Json = {
            "url": api,
            "repository_url": self.urls.repo_api(repo),
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": web,
            "id": item_id,
            "node_id": _node("I", item_id),
            "number": item.number,
            "title": item.title,
            "user": self.user(item.user),
            "labels": [self.label(repo, label) for label in item.labels],
            "state": item.state,
            "locked": item.locked,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": self.milestone(repo, item.milestone, counts),
            "comments": item.comments,
            "created_at": iso(item.created_at),
            "updated_at": iso(item.updated_at),
            "closed_at": iso(item.closed_at),
            "author_association": self.association(item.user),
            "type": None,
            "active_lock_reason": "resolved" if item.locked else None,
        }
        if isinstance(item, PullRequest):
            pull_api = f"{self.urls.repo_api(repo)}/pulls/{item.number}"
            result["draft"] = item.draft
            result["pull_request"] = {
                "url": pull_api,
                "html_url": web,
                "diff_url": f"{web}.diff",
                "patch_url": f"{web}.patch",
                "merged_at": iso(item.merged_at),
            }
        result["body"] = item.body
        if detail:
            closed_by = item.closed_by if isinstance(item, Issue) else item.merged_by
            result["closed_by"] = self.user(closed_by) if item.state == "closed" else None
        result["reactions"] = {
            "url": f"{api}/reactions",
            "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
            "confused": 0, "heart": 0, "rocket": 0, "eyes": 0,
        }  # fmt: skip
        result["timeline_url"] = f"{api}/timeline"
        result["performed_via_github_app"] = None
        result["state_reason"] = (
            item.state_reason if isinstance(item, Issue) else ("completed" if item.merged else None)
        )
        return result

    # -- pull requests --------------------------------------------------------------------

    def _ref(self, repo: Repo, ref: str, sha: str, open_issues: int) -> Json:
        return {
            "label": f"{repo.owner.login}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user(repo.owner),
            "repo": self.repo(repo, open_issues),
        }

    def pull(
        self,
        repo: Repo,
        pull: PullRequest,
        counts: dict[int, list[int]],
        open_issues: int,
        full: bool = False,
    ) -> Json:
        api = f"{self.urls.repo_api(repo)}/pulls/{pull.number}"
        issue_api = f"{self.urls.repo_api(repo)}/issues/{pull.number}"
        web = f"{self.urls.repo_web(repo)}/pull/{pull.number}"
        statuses = f"{self.urls.repo_api(repo)}/statuses/{pull.head_sha}"
        assignees = [self.user(u) for u in pull.assignees]
        result: Json = {
            "url": api,
            "id": pull.id,
            "node_id": _node("PR", pull.id),
            "html_url": web,
            "diff_url": f"{web}.diff",
            "patch_url": f"{web}.patch",
            "issue_url": issue_api,
            "commits_url": f"{api}/commits",
            "review_comments_url": f"{api}/comments",
            "review_comment_url": f"{self.urls.repo_api(repo)}/pulls/comments{{/number}}",
            "comments_url": f"{issue_api}/comments",
            "statuses_url": statuses,
            "number": pull.number,
            "state": pull.state,
            "locked": pull.locked,
            "title": pull.title,
            "user": self.user(pull.user),
            "body": pull.body,
            "labels": [self.label(repo, label) for label in pull.labels],
            "milestone": self.milestone(repo, pull.milestone, counts),
            "active_lock_reason": None,
            "created_at": iso(pull.created_at),
            "updated_at": iso(pull.updated_at),
            "closed_at": iso(pull.closed_at),
            "merged_at": iso(pull.merged_at),
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "requested_reviewers": [self.user(u) for u in pull.requested_reviewers],
            "requested_teams": [],
            "head": self._ref(repo, pull.head_ref, pull.head_sha, open_issues),
            "base": self._ref(repo, pull.base_ref, pull.base_sha, open_issues),
            "_links": {
                "self": {"href": api},
                "html": {"href": web},
                "issue": {"href": issue_api},
                "comments": {"href": f"{issue_api}/comments"},
                "review_comments": {"href": f"{api}/comments"},
                "review_comment": {"href": f"{self.urls.repo_api(repo)}/pulls/comments{{/number}}"},
                "commits": {"href": f"{api}/commits"},
                "statuses": {"href": statuses},
            },
            "author_association": self.association(pull.user),
            "auto_merge": None,
            "draft": pull.draft,
        }
        if full:
            result.update(_pull_detail(self, repo, pull))
        return result

    def review(self, repo: Repo, pull: PullRequest, review: Review) -> Json:
        web = f"{self.urls.repo_web(repo)}/pull/{pull.number}"
        pull_api = f"{self.urls.repo_api(repo)}/pulls/{pull.number}"
        html = f"{web}#pullrequestreview-{review.id}"
        return {
            "id": review.id,
            "node_id": _node("PRR", review.id),
            "user": self.user(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": pull_api,
            "author_association": self.association(review.user),
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_api}},
            "submitted_at": iso(review.submitted_at),
            "commit_id": review.commit_id,
        }

    # -- commits and branches -------------------------------------------------------------

    def commit(self, repo: Repo, c: Commit, full: bool = False) -> Json:
        api = self.urls.repo_api(repo)
        tree = _derived_sha("tree", c.sha)
        verified = c.committer_user is not None and c.committer_user.login == "web-flow"
        result: Json = {
            "sha": c.sha,
            "node_id": _node("C", int(c.sha[:12], 16)),
            "commit": {
                "author": {
                    "name": c.author_name,
                    "email": c.author_email,
                    "date": iso(c.author_date),
                },
                "committer": {
                    "name": c.committer_name,
                    "email": c.committer_email,
                    "date": iso(c.committer_date),
                },
                "message": c.message,
                "tree": {"sha": tree, "url": f"{api}/git/trees/{tree}"},
                "url": f"{api}/git/commits/{c.sha}",
                "comment_count": 0,
                "verification": {
                    "verified": verified,
                    "reason": "valid" if verified else "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": iso(c.committer_date) if verified else None,
                },
            },
            "url": f"{api}/commits/{c.sha}",
            "html_url": f"{self.urls.repo_web(repo)}/commit/{c.sha}",
            "comments_url": f"{api}/commits/{c.sha}/comments",
            "author": self.user(c.author_user),
            "committer": self.user(c.committer_user),
            "parents": [
                {
                    "sha": p,
                    "url": f"{api}/commits/{p}",
                    "html_url": f"{self.urls.repo_web(repo)}/commit/{p}",
                }
                for p in c.parents
            ],
        }
        if full:
            result["stats"] = {
                "total": c.additions + c.deletions,
                "additions": c.additions,
                "deletions": c.deletions,
            }
            result["files"] = _files(self.urls, repo, c)
        return result

    def branch(self, repo: Repo, name: str, sha: str, protected: bool) -> Json:
        return {
            "name": name,
            "commit": {"sha": sha, "url": f"{self.urls.repo_api(repo)}/commits/{sha}"},
            "protected": protected,
        }


_REPO_URL_TEMPLATES = (
    ("forks_url", "forks"),
    ("keys_url", "keys{/key_id}"),
    ("collaborators_url", "collaborators{/collaborator}"),
    ("teams_url", "teams"),
    ("hooks_url", "hooks"),
    ("issue_events_url", "issues/events{/number}"),
    ("events_url", "events"),
    ("assignees_url", "assignees{/user}"),
    ("branches_url", "branches{/branch}"),
    ("tags_url", "tags"),
    ("blobs_url", "git/blobs{/sha}"),
    ("git_tags_url", "git/tags{/sha}"),
    ("git_refs_url", "git/refs{/sha}"),
    ("trees_url", "git/trees{/sha}"),
    ("statuses_url", "statuses/{sha}"),
    ("languages_url", "languages"),
    ("stargazers_url", "stargazers"),
    ("contributors_url", "contributors"),
    ("subscribers_url", "subscribers"),
    ("subscription_url", "subscription"),
    ("commits_url", "commits{/sha}"),
    ("git_commits_url", "git/commits{/sha}"),
    ("comments_url", "comments{/number}"),
    ("issue_comment_url", "issues/comments{/number}"),
    ("contents_url", "contents/{+path}"),
    ("compare_url", "compare/{base}...{head}"),
    ("merges_url", "merges"),
    ("archive_url", "{archive_format}{/ref}"),
    ("downloads_url", "downloads"),
    ("issues_url", "issues{/number}"),
    ("pulls_url", "pulls{/number}"),
    ("milestones_url", "milestones{/number}"),
    ("notifications_url", "notifications{?since,all,participating}"),
    ("labels_url", "labels{/name}"),
    ("releases_url", "releases{/id}"),
    ("deployments_url", "deployments"),
)

_FILE_NAMES = (
    "src/app.py", "src/api/handlers.py", "src/models.py", "tests/test_api.py", "README.md",
    "web/src/App.tsx", "web/src/components/Login.tsx", "package.json", "infra/main.tf",
    "docs/guide/ünïcode — notes.md", "src/services/billing.py", ".github/workflows/ci.yml",
)  # fmt: skip


def _derived_sha(kind: str, sha: str) -> str:
    return hashlib.sha1(f"{kind}:{sha}".encode(), usedforsecurity=False).hexdigest()


def _pull_detail(renderer: Renderer, repo: Repo, pull: PullRequest) -> Json:
    """Fields only ``GET /pulls/{n}`` has (GitHub computes them per pull request)."""
    open_ = pull.state == "open"
    if pull.draft:
        mergeable_state = "draft"
    elif open_:
        mergeable_state = ("clean", "blocked", "unstable", "dirty")[pull.number % 4]
    else:
        mergeable_state = "unknown"
    commits = [repo.commits[sha] for sha in pull.commit_shas]
    return {
        "merged": pull.merged,
        "mergeable": (mergeable_state != "dirty") if open_ else None,
        "rebaseable": (mergeable_state != "dirty") if open_ else None,
        "mergeable_state": mergeable_state,
        "merged_by": renderer.user(pull.merged_by),
        "comments": pull.comments,
        "review_comments": pull.review_comments,
        "maintainer_can_modify": False,
        "commits": len(commits),
        "additions": sum(c.additions for c in commits),
        "deletions": sum(c.deletions for c in commits),
        "changed_files": min(3000, sum(c.files for c in commits)),
    }


def _files(urls: Urls, repo: Repo, c: Commit) -> list[Json]:
    api = urls.repo_api(repo)
    count = min(c.files, 20)
    start = int(c.sha[:4], 16)
    result = []
    left_add, left_del = c.additions, c.deletions
    for i in range(count):
        name = _FILE_NAMES[(start + i) % len(_FILE_NAMES)]
        if i:
            name = f"{name.rsplit('.', 1)[0]}_{i}.{name.rsplit('.', 1)[-1]}"
        add = left_add if i == count - 1 else left_add // 2
        dele = left_del if i == count - 1 else left_del // 2
        left_add -= add
        left_del -= dele
        blob = _derived_sha(f"blob{i}", c.sha)
        result.append(
            {
                "sha": blob,
                "filename": name,
                "status": "modified",
                "additions": add,
                "deletions": dele,
                "changes": add + dele,
                "blob_url": f"{urls.repo_web(repo)}/blob/{c.sha}/{quote(name)}",
                "raw_url": f"{urls.repo_web(repo)}/raw/{c.sha}/{quote(name)}",
                "contents_url": f"{api}/contents/{quote(name)}?ref={c.sha}",
                "patch": f"@@ -1,{dele} +1,{add} @@",
            }
        )
    return result
