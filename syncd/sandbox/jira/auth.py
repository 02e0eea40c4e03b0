"""Who is calling: Basic email:API-token on Cloud, Bearer personal access token on Data Center.

401 shapes, as the real services send them:

- Cloud, no credentials: ``Client must be authenticated to access this resource.`` as
  plain text (seen on /rest/api/2/serverInfo and /myself, pycontribs/jira#1897);
- Cloud, wrong credentials: plain text ``Basic authentication with passwords is
  deprecated...`` with ``X-Seraph-LoginReason: AUTHENTICATED_FAILED`` (what Atlassian answers
  when the password part is not a valid API token; elastic/integrations#3684);
- Data Center, missing or wrong token: the HTML "Unauthorized (401)" page with
  ``X-Seraph-LoginReason: AUTHENTICATED_FAILED`` (GothenburgBitFactory/bugwarrior#689).

Both send ``WWW-Authenticate`` so generic HTTP clients know a challenge happened.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

from syncd.sandbox.http import Request, Response


@dataclass(frozen=True)
class Credentials:
    email: str
    api_token: str  # Cloud: the password half of Basic auth
    personal_access_token: str  # Data Center: Bearer token


def check(request: Request, cloud: bool, creds: Credentials) -> str:
    """ "ok", "missing" or "wrong"."""
    header = request.headers.get("Authorization", "").strip()
    if not header:
        return "missing"
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if cloud:
        if scheme != "basic":
            return "wrong"
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return "wrong"
        email, sep, token = decoded.partition(":")
        ok = (
            sep == ":"
            and email.strip().lower() == creds.email.lower()
            and hmac.compare_digest(token, creds.api_token)
        )
        return "ok" if ok else "wrong"
    if scheme != "bearer":
        return "wrong"
    return "ok" if hmac.compare_digest(value.strip(), creds.personal_access_token) else "wrong"


def unauthorized(cloud: bool, reason: str, base_url: str) -> Response:
    realm = base_url.replace(":", "%3A").replace("/", "%2F")
    headers = {"WWW-Authenticate": f'OAuth realm="{realm}"'}
    if cloud:
        if reason == "missing":
            text = "Client must be authenticated to access this resource."
        else:
            text = (
                "Basic authentication with passwords is deprecated.  For more information, "
                "see: https://developer.atlassian.com/cloud/confluence/deprecation-notice-basic-auth/"
            )
            headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
        headers["Content-Type"] = "text/plain;charset=UTF-8"
        return Response(status=401, body=text.encode(), headers=headers, endpoint="(auth)")
    headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
    headers["Content-Type"] = "text/html;charset=UTF-8"
    page = (
        "<!DOCTYPE html><html><head><title>Unauthorized (401)</title></head><body>"
        "<h1>Unauthorized (401)</h1><p>Encountered a <code>&quot;401 - Unauthorized&quot;"
        "</code> error while loading this page.</p>"
        '<p><a href="/secure/MyJiraHome.jspa">Go to Jira home</a></p></body></html>'
    )
    return Response(status=401, body=page.encode(), headers=headers, endpoint="(auth)")
