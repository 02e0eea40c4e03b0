"""A simulated Jira Cloud / Data Center site (see ``service.JiraService``)."""

from syncd.sandbox.jira.service import JiraService

__all__ = ["JiraService"]
