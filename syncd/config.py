"""Settings: a TOML file plus environment overrides, validated once at start-up.

Where the file is: ``--config``, else ``$SYNCD_CONFIG``, else ``./syncd.toml``.
Environment overrides use the ``SYNCD_`` prefix with ``__`` between levels
(``SYNCD_DATABASE__URL``; ``SYNCD_DATABASE_URL`` is accepted too). Secrets are given inline
(``token = "..."``) or by the name of an environment variable (``token_env = "JIRA_TOKEN"``);
this module is the only one that reads the environment (``os.environ``; tests patch it), so
connectors get resolved secrets.

A broken file raises ``ConfigError`` whose message names the file, the field and the
problem; the CLI prints it and exits 2.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connectors.base import Connector, SourceConfig, discover
from syncd.durations import Duration
from syncd.errors import ConfigError
from syncd.link.config import PeopleConfig

DEFAULT_PATH = Path("syncd.toml")


class DatabaseConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = "sqlite:///syncd.db"
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            raise ValueError(
                "is not a database URL; write sqlite:///path/to/syncd.db or "
                "postgresql+psycopg://user@host/db"
            ) from None
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"{backend!r} is not supported; use sqlite or postgresql")
        return value


class LoggingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "text", "json"] = "auto"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class SyncConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_parallel_sources: int = Field(default=4, ge=1, le=64)
    keep_runs: Duration = Field(default="14d", validate_default=True)  # sync_runs history


class Settings(BaseSettings):
    """Everything syncd is configured with. ``sources`` hold each connector's own model."""

    model_config = SettingsConfigDict(
        env_prefix="SYNCD_", env_nested_delimiter="__", extra="forbid"
    )

    database: DatabaseConfig = DatabaseConfig()
    logging: LoggingConfig = LoggingConfig()
    sync: SyncConfig = SyncConfig()
    sources: list[SourceConfig] = Field(default_factory=list)
    people: PeopleConfig = Field(default_factory=PeopleConfig)
    config_path: Path | None = Field(default=None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, init_settings  # environment wins over the file

    @model_validator(mode="after")
    def _unique_source_names(self) -> Settings:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"two sources are named {source.name!r}; names must be unique")
            seen.add(source.name)
        return self

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} (configured: {known})")


def resolve_path(path: str | Path | None, env: Mapping[str, str]) -> Path:
    if path:
        return Path(path)
    if env.get("SYNCD_CONFIG"):
        return Path(env["SYNCD_CONFIG"])
    return DEFAULT_PATH


def load_settings(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    connectors: Mapping[str, type[Connector]] | None = None,
    require_file: bool = True,
    database_only: bool = False,
) -> Settings:
    """Read, resolve and validate the configuration; raise ConfigError naming the problem.

    ``database_only`` skips the sources (and so their secrets): for commands that only read
    the store, such as ``syncd status``, which must work without the tokens at hand.
    """
    env = os.environ if env is None else env
    config_path = resolve_path(path, env)
    data: dict[str, Any] = {}
    if config_path.exists():
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{config_path}: cannot be read: {exc.strerror}") from None
    elif require_file:
        raise ConfigError(
            f"{config_path}: no such configuration file (write one with `syncd init`, "
            "or name one with --config / SYNCD_CONFIG)"
        )
    if database_only:
        data = {k: v for k, v in data.items() if k in ("database", "logging")}
    return settings_from_dict(
        data, env=env, connectors=connectors, origin=str(config_path), path=config_path
    )


def settings_from_dict(
    data: dict[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    connectors: Mapping[str, type[Connector]] | None = None,
    origin: str = "configuration",
    path: Path | None = None,
) -> Settings:
    env = os.environ if env is None else env
    connectors = discover() if connectors is None else connectors
    data = dict(data)
    if "SYNCD_DATABASE_URL" in env:  # the short form users expect
        data.setdefault("database", {})
        data["database"] = {**data["database"], "url": env["SYNCD_DATABASE_URL"]}
    raw_sources = data.pop("sources", [])
    if not isinstance(raw_sources, list):
        raise ConfigError(f"{origin}: sources: must be a list of [[sources]] tables")
    sources = [
        _source(raw, index, env=env, connectors=connectors, origin=origin)
        for index, raw in enumerate(raw_sources)
    ]
    try:
        settings = Settings(**data, sources=sources, config_path=path)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, origin)) from None
    return settings


def _source(
    raw: Any,
    index: int,
    *,
    env: Mapping[str, str],
    connectors: Mapping[str, type[Connector]],
    origin: str,
) -> SourceConfig:
    where = f"{origin}: sources[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table ([[sources]])")
    if isinstance(raw.get("name"), str):
        where = f"{origin}: sources[{index}] ({raw['name']})"
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in connectors:
        known = ", ".join(sorted(connectors)) or "none installed"
        raise ConfigError(f"{where}.kind: {kind!r} is not a known connector (known: {known})")
    raw = dict(raw)
    token_env = raw.get("token_env")
    if token_env is not None and raw.get("token") is None:
        if not isinstance(token_env, str) or not env.get(token_env):
            raise ConfigError(
                f"{where}.token_env: environment variable {token_env!r} is not set or empty"
            )
        raw["token"] = env[token_env]
    model = connectors[kind].config_model
    try:
        config = model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, where)) from None
    assert isinstance(config, SourceConfig)
    return config


def _explain(exc: ValidationError, where: str) -> str:
    """One line per problem: ``<file>: <field.path>: <what is wrong>`` (no input values,
    which may be secrets)."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field (check the spelling)"
        elif error["type"] == "missing":
            message = "required field is missing"
        lines.append(f"{where}: {loc}: {message}")
    return "\n".join(lines)


def secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
