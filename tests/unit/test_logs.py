"""Logs: JSON lines for machines, and configured secrets masked whatever the format."""

from __future__ import annotations

import json
import logging

from syncd.logs import setup_logging


def test_json_lines_and_secrets_masked(capsys) -> None:  # type: ignore[no-untyped-def]
    setup_logging("INFO", "json", secrets=["tok-very-secret"])
    logging.getLogger("syncd.test").warning(
        "calling %s with %s", "https://x/api", "tok-very-secret"
    )
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["level"] == "WARNING" and record["logger"] == "syncd.test"
    assert record["message"] == "calling https://x/api with ***"


def test_text_format_masks_too(capsys) -> None:  # type: ignore[no-untyped-def]
    setup_logging("INFO", "text", secrets=["hunter2-password"])
    logging.getLogger("syncd.test").error("db error for postgresql://u:hunter2-password@h/db")
    err = capsys.readouterr().err
    assert "hunter2-password" not in err and "postgresql://u:***@h/db" in err


def test_tracebacks_are_masked_too(capsys) -> None:  # type: ignore[no-untyped-def]
    setup_logging("INFO", "json", secrets=["ghp_SECRETSECRET"])
    try:
        raise RuntimeError("request with Authorization: token ghp_SECRETSECRET failed")
    except RuntimeError:
        logging.getLogger("syncd.test").exception("boom")
    err = capsys.readouterr().err
    record = json.loads(err.strip().splitlines()[-1])
    assert "ghp_SECRETSECRET" not in err
    assert "Authorization: token ***" in record["exc_info"]
