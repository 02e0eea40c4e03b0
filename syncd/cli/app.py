"""The ``syncd`` command line.

Exit codes: 0 success; 1 a sync or check failed; 2 the configuration (or the command line)
is wrong; 130 stopped by a signal before finishing.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from syncd.config import Settings, load_settings, resolve_path
from syncd.durations import format_duration
from syncd.errors import ConfigError, SyncdError
from syncd.logs import setup_logging
from syncd.secrets import secret_values

if TYPE_CHECKING:
    from syncd.sync.engine import SyncReport
from syncd.store.db import describe_db_error

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # never print locals: they may hold secrets
    help="syncd keeps a normalized, always-fresh picture of delivery across Jira and GitHub.",
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
config_app = typer.Typer(no_args_is_help=True, help="Configuration file.")
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")

# Piped output (logs, CI, `| less`) gets wide tables rather than 80 columns of ellipses.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
log = logging.getLogger("syncd")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Configuration file (default: $SYNCD_CONFIG, ./syncd.toml)."
    ),
]


@dataclass
class GlobalOptions:
    log_format: str = "auto"
    log_level: str | None = None


_options = GlobalOptions()


@app.callback()
def _global(
    log_format: Annotated[
        str, typer.Option("--log-format", help="auto (text on a terminal, else JSON), text, json")
    ] = "auto",
    log_level: Annotated[str | None, typer.Option("--log-level", help="DEBUG, INFO, ...")] = None,
) -> None:
    if log_format not in ("auto", "text", "json"):
        raise typer.BadParameter("must be auto, text or json", param_hint="--log-format")
    if log_level is not None:
        log_level = log_level.upper()
        if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise typer.BadParameter(
                "must be DEBUG, INFO, WARNING or ERROR", param_hint="--log-level"
            )
    _options.log_format, _options.log_level = log_format, log_level
    setup_logging(log_level or "INFO", log_format)


def load(config: Path | None, *, need_sources: bool = True) -> Settings:
    """Settings for a command; logging reconfigured with the settings' level and secrets.

    Without ``need_sources`` only the database and logging sections are read, so commands
    that just read the store work without the sources' tokens in the environment."""
    import os

    explicit = config is not None or bool(os.environ.get("SYNCD_CONFIG"))
    settings = load_settings(
        config, require_file=explicit or need_sources, database_only=not need_sources
    )
    if need_sources and not settings.sources:
        raise ConfigError(f"{resolve_path(config, os.environ)}: no [[sources]] are configured")
    secrets = secret_values(settings)
    fmt = settings.logging.format if _options.log_format == "auto" else _options.log_format
    setup_logging(_options.log_level or settings.logging.level, fmt, secrets)
    return settings


def open_db(settings: Settings, *, migrate: bool = True) -> Engine:
    from syncd.store.db import open_database, upgrade

    engine = open_database(settings.database.url, echo=settings.database.echo)
    if migrate:
        upgrade(engine)
    return engine


def safe_db_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# -- configuration -----------------------------------------------------------------------


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write it.")] = Path("syncd.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example configuration."""
    from importlib.resources import files

    if path.exists() and not force:
        raise ConfigError(f"{path} exists; use --force to overwrite it")
    path.write_text(files("syncd.resources").joinpath("syncd.example.toml").read_text("utf-8"))
    out.print(f"wrote {path}: edit the sources, then run `syncd config check -c {path}`")


@config_app.command("check")
def config_check(config: ConfigOption = None) -> None:
    """Validate the configuration and show what it configures."""
    settings = load(config)
    out.print(f"[green]ok[/green]: {settings.config_path}")
    out.print(f"database: {safe_db_url(settings.database.url)}")
    for s in settings.sources:
        scopes = ", ".join(getattr(s, "projects", None) or getattr(s, "repos", None) or [])
        every = format_duration(s.interval)
        out.print(f"source {s.name} ({s.kind}) {s.url} every {every}: {scopes}", markup=False)


# -- database ----------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Create or migrate the database schema to the current version."""
    from syncd.store.db import current_revision

    settings = load(config, need_sources=False)
    engine = open_db(settings)
    out.print(
        f"database {safe_db_url(settings.database.url)} at revision {current_revision(engine)}"
    )


@db_app.command("current")
def db_current(config: ConfigOption = None) -> None:
    """Show the schema revision of the database and the one this syncd expects."""
    from syncd.store.db import current_revision, head_revision

    settings = load(config, need_sources=False)
    engine = open_db(settings, migrate=False)
    current, head = current_revision(engine), head_revision()
    out.print(f"database revision {current or '(empty)'}; this syncd expects {head}")
    if current != head:
        raise typer.Exit(1)


# -- syncing -----------------------------------------------------------------------------


@contextmanager
def _progress() -> Iterator[object]:
    from syncd.sync.progress import LogProgress, RichProgress

    if err.is_terminal:
        with RichProgress() as bar:
            yield bar
    else:
        yield LogProgress()


@app.command()
def sync(
    config: ConfigOption = None,
    source: Annotated[str | None, typer.Option("--source", "-s", help="Only this source.")] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Re-read everything, reconcile deletions.")
    ] = False,
) -> None:
    """Run every stream of every source once, then exit."""
    from syncd.cli.signals import handle_stop_signals
    from syncd.sync.engine import SyncEngine

    settings = load(config)
    if source:
        settings.source(source)  # a clear error for an unknown name, before any work
    engine = open_db(settings)
    stop = threading.Event()
    t0 = time.monotonic()
    with handle_stop_signals(stop), _progress() as progress:
        report = SyncEngine(settings, engine, stop=stop, progress=progress).sync(source, full=full)  # type: ignore[arg-type]
    print_report(report, time.monotonic() - t0)
    if report.stopped:
        err.print("stopped before finishing; the next sync continues where this one stopped")
        raise typer.Exit(130)
    if not report.ok:
        raise typer.Exit(1)


def print_report(report: SyncReport, seconds: float, title: str = "sync") -> None:
    table = Table(title=f"{title} finished in {seconds:.1f}s", title_justify="left")
    for col in ("source", "scope", "stream", "status", "records", "requests", "skipped", "time"):
        table.add_column(
            col, justify="right" if col in ("records", "requests", "skipped", "time") else "left"
        )
    for r in report.results:
        colour = {"success": "green", "stopped": "yellow"}.get(r.status, "red")
        table.add_row(
            r.source,
            r.scope,
            r.stream,
            f"[{colour}]{r.status}[/{colour}]",
            str(r.records),
            str(r.requests),
            str(r.item_errors),
            f"{r.seconds:.1f}s",
        )
    out.print(table)
    for name, error in report.source_errors.items():
        err.print(f"source {name} failed: {error}", markup=False, style="red")
    if report.link_error:
        err.print(
            f"deriving links and people failed: {report.link_error}", markup=False, style="red"
        )
    for r in report.results:
        if r.error and r.source not in report.source_errors:
            err.print(f"{r.source} {r.scope} {r.stream}: {r.error}", markup=False, style="red")


def print_stream_summary(report: SyncReport, seconds: float, title: str) -> None:
    """One row per source and stream, summed over scopes."""
    rows: dict[tuple[str, str], list] = {}
    for r in report.results:
        row = rows.setdefault((r.source, r.stream), [0, 0, 0, 0.0, set()])
        row[0] += r.records
        row[1] += r.requests
        row[2] += r.item_errors
        row[3] += r.seconds
        row[4].add(r.status)
    table = Table(title=f"{title}: {seconds:.1f}s", title_justify="left")
    for col in ("source", "stream", "records", "requests", "skipped", "time", "status"):
        table.add_column(col, justify="left" if col in ("source", "stream", "status") else "right")
    for (source, stream), (records, requests, skipped, secs, statuses) in rows.items():
        table.add_row(
            source,
            stream,
            f"{records:,}",
            f"{requests:,}",
            str(skipped),
            f"{secs:.1f}s",
            ", ".join(sorted(statuses)),
        )
    out.print(table)
    for name, error in report.source_errors.items():
        err.print(f"source {name} failed: {error}", markup=False, style="red")


@app.command()
def run(config: ConfigOption = None) -> None:
    """The daemon, in the foreground: sync each source on its interval until SIGTERM."""
    from syncd.cli.signals import handle_stop_signals
    from syncd.service.daemon import Daemon
    from syncd.sync.engine import SyncEngine
    from syncd.sync.progress import LogProgress

    settings = load(config)
    engine = open_db(settings)
    stop = threading.Event()
    with handle_stop_signals(stop):
        sync_engine = SyncEngine(settings, engine, stop=stop, progress=LogProgress())
        Daemon(settings, sync_engine, stop).run()


@app.command()
def status(config: ConfigOption = None) -> None:
    """How fresh each source, scope and stream is, and what went wrong last."""
    from syncd.sync.status import recent_item_errors, stream_statuses

    settings = load(config, need_sources=False)
    engine = open_db(settings)
    now = datetime.now(UTC)
    table = Table(title_justify="left")
    for col in (
        "source",
        "scope",
        "stream",
        "last success",
        "age",
        "last run",
        "records",
        "skipped",
        "last error",
    ):
        table.add_column(col)
    rows = stream_statuses(engine)
    for s in rows:
        age = _age(now - s.last_success_at) if s.last_success_at else "never"
        table.add_row(
            s.source,
            s.scope,
            s.stream,
            s.last_success_at.strftime("%Y-%m-%d %H:%M:%SZ") if s.last_success_at else "-",
            age,
            s.last_run_status or "-",
            str(s.last_run_records or 0),
            str(s.item_errors),
            escape((s.last_error or "")[:120]),
        )
    if not rows:
        out.print("nothing synced yet: run `syncd sync`")
        return
    out.print(table)
    errors = recent_item_errors(engine, limit=10)
    if errors:
        out.print("\nitems skipped (most recent first):")
        for e in errors:
            out.print(
                f"  {e.scope_key} {e.stream} {e.item}: {e.reason} (x{e.occurrences})", markup=False
            )
    _print_links_and_people(engine)


def _print_links_and_people(engine: Engine) -> None:
    from syncd.link.queries import dangling_keys, link_summary, people_summary

    with engine.connect() as conn:
        links, people = link_summary(conn), people_summary(conn)
        dangling = dangling_keys(conn, limit=20)
    out.print(
        f"\nlinks: {links.links:,} ({links.linked_issues:,} issues, "
        f"{links.pull_requests_with_links:,} pull requests, {links.commits_with_links:,} commits); "
        f"people: {people.people:,} ({people.in_several_tools:,} in both tools)"
    )
    if dangling:
        out.print(
            f"Jira keys mentioned in GitHub that name no stored issue ({links.dangling_keys}):"
        )
        for d in dangling:
            out.print(
                f"  {d.key}: {d.pull_requests} pull requests, {d.commits} commits, e.g. {d.example}",
                markup=False,
            )


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


@app.command()
def doctor(config: ConfigOption = None) -> None:
    """Check the configuration, the database and every source's credentials and reachability."""
    from syncd.store.db import current_revision, head_revision
    from syncd.sync.engine import SyncEngine

    settings = load(config)
    out.print(f"[green]ok[/green]   config {settings.config_path}")
    failures = 0
    try:
        engine = open_db(settings, migrate=False)
        rev, head = current_revision(engine), head_revision()
        note = (
            "" if rev == head else f" (run `syncd db upgrade`: at {rev or 'empty'}, expects {head})"
        )
        out.print(f"[green]ok[/green]   database {safe_db_url(settings.database.url)}{note}")
    except Exception as exc:  # any driver error: report it as the database's problem
        failures += 1
        out.print(
            f"[red]FAIL[/red] database {safe_db_url(settings.database.url)}: {escape(str(exc))}"
        )
        engine = None
    sync_engine = SyncEngine(settings, engine)  # type: ignore[arg-type]
    for cfg in settings.sources:
        t0 = time.monotonic()
        try:
            connector = sync_engine.make_connector(cfg)
            try:
                result = connector.check()
            finally:
                connector.close()
        except SyncdError as exc:
            failures += 1
            out.print(f"[red]FAIL[/red] source {cfg.name}: {escape(str(exc))}")
            continue
        took = f"{(time.monotonic() - t0) * 1000:.0f} ms"
        if result.ok:
            out.print(f"[green]ok[/green]   source {cfg.name}: {escape(result.detail)} ({took})")
        else:
            failures += 1
            out.print(f"[red]FAIL[/red] source {cfg.name}: {escape(result.detail)}")
    if failures:
        raise typer.Exit(1)


# -- sandbox and demo --------------------------------------------------------------------


@app.command()
def sandbox(
    size: Annotated[str, typer.Option(help="small, medium or large.")] = "small",
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 1,
    jira_port: Annotated[int, typer.Option(help="0: any free port.")] = 0,
    github_port: Annotated[int, typer.Option(help="0: any free port.")] = 0,
    evolve: Annotated[
        float | None, typer.Option(help="Changes per minute applied to each service.")
    ] = None,
    faults: Annotated[
        str | None,
        typer.Option(
            help="e.g. latency_ms=50,error_rate=0.1,reset_rate=0.01,truncate_rate=0.01,rate_limit"
        ),
    ] = None,
    jira_deployment: Annotated[str, typer.Option(help="cloud or datacenter.")] = "cloud",
) -> None:
    """Serve a simulated Jira and GitHub on loopback until stopped (for trying syncd out)."""
    from syncd.sandbox.cli import serve
    from syncd.sandbox.sizes import SIZES

    if size not in SIZES:
        raise typer.BadParameter(f"must be one of {', '.join(SIZES)}", param_hint="--size")
    if jira_deployment not in ("cloud", "datacenter"):
        raise typer.BadParameter("must be cloud or datacenter", param_hint="--jira-deployment")
    try:
        code = serve(size, seed, jira_port, github_port, evolve, faults, jira_deployment)  # type: ignore[arg-type]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--faults") from None
    raise typer.Exit(code)


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the demo's config and database go.")
    ] = Path("syncd-demo"),
    size: Annotated[str, typer.Option(help="Sandbox size: small, medium or large.")] = "small",
    seed: Annotated[int, typer.Option(help="Sandbox seed.")] = 1,
) -> None:
    """Start the sandbox, sync it into a fresh SQLite file, and show what syncd did."""
    from syncd.demo import run_demo
    from syncd.sandbox.sizes import SIZES

    if size not in SIZES:
        raise typer.BadParameter(f"must be one of {', '.join(SIZES)}", param_hint="--size")
    if _options.log_level is None:
        setup_logging("WARNING", _options.log_format)  # the summary tells the story
    out.print(f"starting the sandbox ({size}) and syncing it into {directory / 'syncd.db'} ...")
    with _progress() as progress:
        result = run_demo(directory.resolve(), size=size, seed=seed, progress=progress)  # type: ignore[arg-type]
    out.print()
    print_stream_summary(result.full, result.full_seconds, "full sync")
    print_stream_summary(
        result.incremental, result.incremental_seconds, "incremental sync, nothing changed"
    )
    counts = Table(title="what the store holds", title_justify="left")
    counts.add_column("table")
    counts.add_column("rows", justify="right")
    for name, count in result.counts.items():
        counts.add_row(name, f"{count:,}")
    out.print(counts)
    out.print(f"database: {result.database_path}")
    out.print(
        f"config:   {result.config_path}  (the sandbox is stopped now; `syncd sandbox` serves it)"
    )
    out.print(f"try:      .venv/bin/syncd status -c {result.config_path}")
    if not (result.full.ok and result.incremental.ok):
        raise typer.Exit(1)


# -- entry point -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: typed errors become messages and exit codes."""
    try:
        app(args=argv, prog_name="syncd")  # standalone: usage errors exit 2 by themselves
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SyncdError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:  # unreachable server, full disk, locked file...
        print(f"error: database: {describe_db_error(exc)}", file=sys.stderr)
        return 1
    return 0
