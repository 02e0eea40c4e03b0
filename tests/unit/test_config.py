"""Configuration: good files load; every broken file stops with the file, the field and
the problem named, never a traceback and never a secret."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from syncd.cli.app import main
from syncd.config import load_settings
from syncd.errors import ConfigError
from tests.support.memory_connector import MemoryConnector

CONFIGS = Path(__file__).parent.parent / "data" / "configs"
REGISTRY = {"memory": MemoryConnector}


def test_minimal_config_resolves_the_token_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("MEM_TOKEN", "from-env-secret")
    settings = load_settings(CONFIGS / "good" / "minimal.toml", connectors=REGISTRY)
    source = settings.source("mem")
    assert source.token is not None and source.token.get_secret_value() == "from-env-secret"
    assert "from-env-secret" not in repr(settings)
    assert settings.database.url == "sqlite:///syncd.db"
    assert source.interval == timedelta(minutes=5)


def test_full_config_and_environment_overrides(monkeypatch) -> None:
    monkeypatch.setenv("MEM_TOKEN", "x")
    monkeypatch.setenv("SYNCD_DATABASE_URL", "sqlite:////tmp/override.db")
    monkeypatch.setenv("SYNCD_LOGGING__LEVEL", "WARNING")
    settings = load_settings(CONFIGS / "good" / "full.toml", connectors=REGISTRY)
    assert settings.database.url == "sqlite:////tmp/override.db"
    assert settings.logging.level == "WARNING"
    a, b = settings.sources
    assert a.url == "https://memory.example"  # trailing slash dropped
    assert a.interval == timedelta(hours=1, minutes=30)
    assert b.interval == timedelta(seconds=90)
    assert a.projects == ["A", "B"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bad_toml", "not valid TOML"),
        ("unknown_kind", "sources[0] (x).kind: 'gitlab' is not a known connector (known: memory)"),
        ("bad_interval", "sources[0] (x): interval: 'every five minutes' is not a duration"),
        (
            "missing_env_token",
            "sources[0] (x).token_env: environment variable 'SYNCD_TEST_UNSET_VARIABLE' is not set",
        ),
        ("typo_field", "sources[0] (x): projetcs: unknown field"),
        ("url_with_credentials", "sources[0] (x): url: must not contain credentials"),
        ("duplicate_names", "two sources are named 'x'"),
        ("unknown_section", "databse: unknown field"),
        ("bad_concurrency", "concurrency: Input should be greater than or equal to 1"),
        ("bad_database_url", "database.url: is not a database URL"),
        ("zero_interval", "interval: must be at least 1s"),
    ],
)
def test_broken_config_names_file_field_and_problem(name: str, expected: str) -> None:
    path = CONFIGS / "broken" / f"{name}.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(path, connectors=REGISTRY, env={})
    message = str(info.value)
    assert str(path) in message
    assert expected in message
    assert "hunter2" not in message


def test_missing_file_says_how_to_make_one(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"no such configuration file.*syncd init"):
        load_settings(tmp_path / "nope.toml", connectors=REGISTRY)


def test_cli_exits_2_with_a_one_line_message_and_no_traceback(capsys) -> None:
    code = main(["config", "check", "--config", str(CONFIGS / "broken" / "bad_toml.toml")])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("error: ") and "bad_toml.toml: not valid TOML" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_init_writes_an_example_that_validates(tmp_path, monkeypatch, capsys) -> None:
    target = tmp_path / "syncd.toml"
    assert main(["init", str(target)]) == 0
    text = target.read_text()
    assert "[[sources]]" in text and "token_env" in text
    assert main(["init", str(target)]) == 2  # refuses to overwrite

    monkeypatch.setenv("JIRA_TOKEN", "example-jira-token")
    monkeypatch.setenv("GITHUB_TOKEN", "example-github-token")
    capsys.readouterr()
    assert main(["config", "check", "--config", str(target)]) == 0
    shown = capsys.readouterr().out
    assert "acme-jira (jira)" in shown and "acme-github (github)" in shown
    assert "example-jira-token" not in shown


def test_an_unreachable_database_is_a_one_line_error(tmp_path, capsys) -> None:
    config = tmp_path / "syncd.toml"
    config.write_text('[database]\nurl = "postgresql+psycopg://nobody@127.0.0.1:1/none"\n')
    code = main(["status", "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: database: OperationalError") and "Traceback" not in err


def test_log_level_is_case_insensitive_and_checked(tmp_path, capsys) -> None:
    config = tmp_path / "syncd.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/x.db"\n[logging]\nlevel = "debug"\n'
    )
    assert main(["--log-level", "info", "db", "upgrade", "--config", str(config)]) == 0
    assert main(["--log-level", "loud", "db", "upgrade", "--config", str(config)]) == 2
