"""The unmodified ``jira`` library against the simulated Jira, Cloud and Data Center."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jira import JIRA, JIRAError

from syncd.sandbox.http import SandboxServer
from syncd.sandbox.jira import JiraService
from tests.sandbox.jira_support import ANCHOR_MS


@pytest.fixture(scope="module")
def cloud() -> Iterator[SandboxServer]:
    with SandboxServer(JiraService("small", 7, anchor_ms=ANCHOR_MS)) as server:
        yield server


@pytest.fixture(scope="module")
def datacenter() -> Iterator[SandboxServer]:
    service = JiraService("small", 7, deployment="datacenter", anchor_ms=ANCHOR_MS)
    with SandboxServer(service) as server:
        yield server


def cloud_client(server: SandboxServer) -> JIRA:
    service = server.service
    assert isinstance(service, JiraService)
    return JIRA(server.url, basic_auth=(service.email, service.api_token), max_retries=0)


def dc_client(server: SandboxServer) -> JIRA:
    service = server.service
    assert isinstance(service, JiraService)
    return JIRA(server.url, token_auth=service.personal_access_token, max_retries=0)


def test_cloud_connects_as_a_cloud_site_with_a_dst_time_zone(cloud: SandboxServer) -> None:
    client = cloud_client(cloud)
    assert client.deploymentType == "Cloud"
    me = client.myself()
    assert me["timeZone"] == "America/Los_Angeles"
    assert me["emailAddress"] == "syncd-bot@acme.example"
    assert "accountId" in me and "name" not in me


def test_cloud_pages_through_every_issue(cloud: SandboxServer) -> None:
    service = cloud.service
    assert isinstance(service, JiraService)
    client = cloud_client(cloud)
    found = client.search_issues("project in (PROJ, OPS) ORDER BY key ASC", maxResults=False)
    assert len(found) == len(service.data.issues) == 300
    assert {i.key for i in found} == {i.key for i in service.data.issues.values()}
    truth = {i.key: i for i in service.data.issues.values()}
    for issue in found:
        assert issue.fields.status.name == truth[issue.key].status
        assignee = truth[issue.key].assignee
        if assignee is None:
            assert issue.fields.assignee is None
        else:
            assert issue.fields.assignee.accountId == service.data.users[assignee].account_id
    # The client paged with nextPageToken: 300 issues at its batch of 100 is 3 requests.
    assert cloud.log.counts["GET /rest/api/2/search/jql"] >= 3


def test_cloud_search_by_post_gives_the_same_issues(cloud: SandboxServer) -> None:
    client = cloud_client(cloud)
    by_get = client.enhanced_search_issues("project = PROJ", maxResults=False, fields="key")
    by_post = client.enhanced_search_issues(
        "project = PROJ", maxResults=False, fields="key", use_post=True
    )
    assert [i.key for i in by_get] == [i.key for i in by_post]
    assert len(by_get) == 150


def test_cloud_refuses_startat_paging_in_the_client(cloud: SandboxServer) -> None:
    client = cloud_client(cloud)
    with pytest.raises(JIRAError):
        client.search_issues("project = PROJ", startAt=50)


def test_custom_fields_are_discoverable_and_filled(cloud: SandboxServer) -> None:
    client = cloud_client(cloud)
    fields = {f["schema"].get("custom"): f for f in client.fields() if f.get("custom")}
    sprint = fields["com.pyxis.greenhopper.jira:gh-sprint"]["id"]
    points = fields["com.pyxis.greenhopper.jira:jsw-story-points"]["id"]
    found = client.search_issues(
        "project = PROJ", maxResults=False, fields=f"{sprint},{points},summary"
    )
    with_sprint = [i for i in found if i.raw["fields"].get(sprint)]
    with_points = [i for i in found if i.raw["fields"].get(points) is not None]
    assert with_sprint and with_points
    value = with_sprint[0].raw["fields"][sprint][0]
    assert {"id", "name", "state", "boardId"} <= set(value)


def test_issue_changelog_is_capped_and_complete_through_paging(cloud: SandboxServer) -> None:
    service = cloud.service
    assert isinstance(service, JiraService)
    client = cloud_client(cloud)
    big = next(i for i in service.data.issues.values() if len(i.history) > 100)
    issue = client.issue(big.key, expand="changelog")
    assert issue.changelog.total == len(big.history)
    assert len(issue.changelog.histories) == 100
    # Embedded histories are the most recent first.
    assert issue.changelog.histories[0].id == str(big.history[-1].id)
    collected = []
    start = 0
    while True:
        page = client._session.get(
            f"{cloud.url}/rest/api/3/issue/{big.key}/changelog", params={"startAt": start}
        ).json()
        collected += page["values"]
        if page["isLast"]:
            break
        start += page["maxResults"]
    assert [h["id"] for h in collected] == [str(h.id) for h in big.history]


def test_boards_sprints_and_versions(cloud: SandboxServer) -> None:
    service = cloud.service
    assert isinstance(service, JiraService)
    client = cloud_client(cloud)
    boards = client.boards()
    assert sorted(b.name for b in boards) == ["OPS board", "PROJ board"]
    for board in boards:
        sprints = client.sprints(board.id, maxResults=False)
        assert len(sprints) == len(service.data.sprints_of(board.id))
        assert sum(1 for s in sprints if s.state == "active") == 1
    versions = client.project_versions("PROJ")
    assert any(v.released for v in versions)
    assert any(not v.released and hasattr(v, "releaseDate") for v in versions)
    assert any(not hasattr(v, "releaseDate") for v in versions)


def test_wrong_token_fails_fast(cloud: SandboxServer) -> None:
    service = cloud.service
    assert isinstance(service, JiraService)
    with pytest.raises(JIRAError) as err:
        JIRA(cloud.url, basic_auth=(service.email, "not-the-token"), max_retries=0)
    assert err.value.status_code == 401


def test_datacenter_connects_with_a_personal_access_token(datacenter: SandboxServer) -> None:
    client = dc_client(datacenter)
    assert client.deploymentType == "Server"
    me = client.myself()
    assert {"name", "key"} <= set(me) and "accountId" not in me


def test_datacenter_pages_with_startat_and_total(datacenter: SandboxServer) -> None:
    service = datacenter.service
    assert isinstance(service, JiraService)
    client = dc_client(datacenter)
    found = client.search_issues("project = OPS ORDER BY key ASC", maxResults=False)
    assert found.total == 150 == len(found)
    assert [i.key for i in found] == [f"OPS-{n}" for n in range(1, 151)]
    # Data Center embeds the whole changelog: there is no changelog endpoint to page.
    big = next(i for i in service.data.issues.values() if len(i.history) > 100)
    issue = client.issue(big.key, expand="changelog")
    assert len(issue.changelog.histories) == len(big.history)
    # Sprint values are the greenhopper strings on Data Center.
    sprint_field = next(f["id"] for f in client.fields() if f["name"] == "Sprint")
    raw = next(i.raw["fields"][sprint_field] for i in found if i.raw["fields"].get(sprint_field))
    assert raw[0].startswith("com.atlassian.greenhopper.service.sprint.Sprint@")


def test_datacenter_rejects_basic_auth(datacenter: SandboxServer) -> None:
    service = datacenter.service
    assert isinstance(service, JiraService)
    with pytest.raises(JIRAError) as err:
        JIRA(datacenter.url, basic_auth=("syncd-bot", service.personal_access_token), max_retries=0)
    assert err.value.status_code == 401
