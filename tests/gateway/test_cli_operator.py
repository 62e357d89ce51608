"""The ``govhub`` command as an operator meets it: ``-h`` and ``--version``; each
command's help names the settings it reads (and a command reads no setting its help
leaves out); init, demo and report monthly say what they are doing, a line per store or
step, and end with a summary; serve says where it listens and which stores it uses,
passwords masked; the mistakes an operator can make (a bad setting, a missing secret, a
store not migrated, a database not reachable, no matplotlib) are one line saying what
to do and exit code 1, never a traceback."""

from __future__ import annotations

import importlib.metadata
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import uvicorn
from click.testing import CliRunner, Result
from pydantic import AliasChoices

from gateway.cli import main
from gateway.settings import Settings
from tests.conftest import DEMO_NOW

pytestmark = pytest.mark.skipif(
    os.environ.get("GOVHUB_TEST_BACKEND") == "postgres",
    reason="the command line does not depend on the backend: checked in the SQLite pass",
)

STORES = ["city", "county", "town", "village", "identity"]
# nothing listens on port 1: a PostgreSQL store that cannot be reached
UNREACHABLE = "postgresql+asyncpg://govhub:hunter2-secret@127.0.0.1:1/govhub"


def env_for(var: Path, **extra: str | None) -> dict[str, str | None]:
    """One run's environment: SQLite stores under ``var``, nothing of the surrounding
    environment (another backend, Redis) leaking in."""
    env: dict[str, str | None] = {
        "GOVHUB_MODE": "dev",
        "GOVHUB_VAR_DIR": str(var),
        "GOVHUB_SECRET_KEY": "cli-operator-test-secret",
        "GOVHUB_CLOCK_OVERRIDE": DEMO_NOW.isoformat(),
        "GOVHUB_REDIS_URL": None,
        "REDIS_URL": None,
        "GOVHUB_PUBLIC_URL": None,
        "GOVHUB_WORKERS": None,
        **{f"GOVHUB_{store.upper()}_DB_URL": None for store in STORES},
    }
    env.update(extra)
    return env


def govhub(var: Path, *args: str, **extra: str | None) -> Result:
    return CliRunner().invoke(main, list(args), env=env_for(var, **extra))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Result]]:
    """Stores with the demo city, and what ``govhub demo`` printed loading it."""
    var = tmp_path_factory.mktemp("cli-operator") / "var"
    loaded = govhub(var, "demo")
    assert loaded.exit_code == 0, loaded.output
    yield var, loaded


def one_line_error(result: Result) -> str:
    """The error line of a run that failed as an operator's mistake should."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def commands(group: click.Group = main, path: tuple[str, ...] = ()) -> Iterator[Any]:
    """(path, command) of every command that does something when run."""
    for name, command in group.commands.items():
        here = (*path, name)
        if isinstance(command, click.Group):
            if command.invoke_without_command:
                yield here, command
            yield from commands(command, here)
        else:
            yield here, command


# --- -h, --version, help ---------------------------------------------------------------


def test_dash_h_is_help_for_govhub_and_every_command() -> None:
    top = CliRunner().invoke(main, ["-h"])
    assert top.exit_code == 0 and "Usage: govhub" in top.output
    assert "serve" in top.output and "report" in top.output
    for path, _command in commands():
        shown = CliRunner().invoke(main, [*path, "-h"])
        assert shown.exit_code == 0, (path, shown.output)
        assert f"Usage: govhub {' '.join(path)}" in shown.output


def test_version_is_the_packages() -> None:
    for flag in ("--version", "-V"):
        shown = CliRunner().invoke(main, [flag])
        assert shown.exit_code == 0
        assert shown.output.strip() == f"govhub {importlib.metadata.version('govhub')}"


def env_name(field: str) -> str:
    """The environment variable of a setting: its first alias (``GOVHUB_NODES`` for
    ``nodes_file``), else ``GOVHUB_<FIELD>``."""
    alias = Settings.model_fields[field].validation_alias
    first = alias.choices[0] if isinstance(alias, AliasChoices) else alias
    if isinstance(first, str) and first.startswith("GOVHUB_"):
        return first
    return f"GOVHUB_{field.upper()}"


def test_every_commands_help_names_the_settings_it_reads() -> None:
    fields = {env_name(name) for name in Settings.model_fields}
    for path, command in commands():
        named = getattr(command, "govhub_settings", None)
        assert named is not None, f"govhub {' '.join(path)} names no settings"
        settings = [n for n in named if n.startswith("GOVHUB_") and " " not in n]
        assert set(settings) <= fields, set(settings) - fields
        text = " ".join(CliRunner().invoke(main, [*path, "-h"]).output.split())
        assert "Settings read" in text or "Reads no settings" in text, path
        for name in settings:
            assert name in text, (path, name)


# each command run against the demo stores, and the settings it may read
RUNS: list[list[str]] = [
    ["init"],
    ["user", "list"],
    ["keys", "list"],
    ["calendar", "show", "2026"],
    ["audit", "verify", "--level", "TOWN"],
    ["timers", "run"],
    ["relay", "--once"],
    ["licences", "kit"],
    ["report", "monthly", "--org", "140702000000", "--month", "2026-10", "--no-chart"],
    ["export-schema"],
    ["nodes"],
]


@pytest.mark.parametrize("args", RUNS, ids=lambda a: " ".join(a[:2]))
def test_a_command_reads_no_setting_its_help_leaves_out(
    args: list[str], demo: tuple[Path, Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    var, _ = demo
    read: set[str] = set()
    original = Settings.__getattribute__

    def spy(self: Settings, name: str) -> Any:
        if name in Settings.model_fields:
            read.add(env_name(name))
        return original(self, name)

    monkeypatch.setattr(Settings, "__getattribute__", spy)
    monkeypatch.chdir(tmp_path)  # the report is written here
    result = govhub(var, *args)
    assert result.exit_code == 0, result.output
    command: Any = main
    for name in args:
        if not isinstance(command, click.Group) or name not in command.commands:
            break
        command = command.commands[name]
    assert read or not command.govhub_settings, "the spy saw no setting read"
    assert read <= set(command.govhub_settings), read - set(command.govhub_settings)


# --- progress and summaries --------------------------------------------------------------


def test_init_says_what_it_does_to_each_store_and_ends_with_a_summary(tmp_path: Path) -> None:
    var = tmp_path / "var"
    first = govhub(var, "init")
    assert first.exit_code == 0, first.output
    for store in STORES:
        assert re.search(rf"^  {store} store: empty → \w+ \(\d+\.\ds\)$", first.output, re.M)
    assert "token signing key checked" in first.output
    assert re.search(r"^stores migrated: .* \(\d+\.\ds\)$", first.output, re.M)
    assert re.search(r"^signing key: \S+$", first.output, re.M)
    again = govhub(var, "init")
    for store in STORES:
        assert re.search(rf"^  {store} store: at \w+ already", again.output, re.M), again.output


def test_demo_prints_a_line_per_step_then_the_summary(demo: tuple[Path, Result]) -> None:
    _, loaded = demo
    lines = loaded.output.splitlines()
    steps = [line for line in lines if re.match(r"^  .+ \(\d+\.\ds\)$", line)]
    # a line per store migrated, then the demo's steps as each is done
    for step in ("accounts:", "cases:", "e-licences:", "evaluations and complaints:"):
        assert any(line.startswith(f"  {step}") for line in steps), (step, loaded.output)
    assert len(steps) >= 5 + 7
    assert lines[-1].startswith("demo city loaded in ") and "matters 34" in lines[-1]


def test_report_monthly_shows_its_steps_and_a_summary(
    demo: tuple[Path, Result], tmp_path: Path
) -> None:
    var, _ = demo
    args = ["report", "monthly", "--org", "140702000000", "--month", "2026-10", "-o"]
    result = govhub(var, *args, str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "reading 2026-10's figures from the level stores" in result.output
    assert re.search(
        r"^  figures of \d+ orgs from 4 level stores \(\d+\.\ds\)$", result.output, re.M
    )
    assert re.search(r"^  CSV written: .*\.csv \(", result.output, re.M)
    assert re.search(r"^  chart drawn: .*\.png \(", result.output, re.M)
    assert re.search(
        r"^\S+ 140702000000 2026-10: \d+ received, \d+ completed, \d+ orgs \(\d+\.\ds\)$",
        result.output,
        re.M,
    )


def test_report_monthly_without_matplotlib_says_to_install_the_reports_extra(
    demo: tuple[Path, Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    var, _ = demo
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    args = ["report", "monthly", "--org", "140702000000", "--month", "2026-10", "-o"]
    line = one_line_error(govhub(var, *args, str(tmp_path / "out")))
    assert "pip install 'govhub[reports]'" in line and "--no-chart" in line
    assert not (tmp_path / "out").exists()
    csv_only = govhub(var, *args, str(tmp_path / "out"), "--no-chart")
    assert csv_only.exit_code == 0, csv_only.output
    assert [p.suffix for p in (tmp_path / "out").iterdir()] == [".csv"]


# --- serve -------------------------------------------------------------------------------


def test_serve_says_where_it_listens_and_which_stores_it_uses(
    demo: tuple[Path, Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    var, _ = demo
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    shown = govhub(
        var,
        "serve",
        "--port",
        "8765",
        GOVHUB_REDIS_URL="redis://:redis-password@127.0.0.1:6399/7",
        GOVHUB_TOWN_DB_URL=UNREACHABLE,
    )
    assert shown.exit_code == 0, shown.output
    assert calls and calls[0]["port"] == 8765
    out = shown.output
    base = "http://127.0.0.1:8765"
    for path in ("/graphql", "/dashboard", "/metrics"):
        assert f"{base}{path}" in out
    for store in ("city", "county", "village", "identity"):
        assert re.search(rf"^  {store} +sqlite\+aiosqlite:///.*{store}\.sqlite3  ready$", out, re.M)
    # the town store is down: served as unavailable, its password never shown
    assert re.search(
        r"^  town +postgresql\+asyncpg://govhub:\*\*\*@127\.0\.0\.1:1/govhub", out, re.M
    )
    assert "NOT REACHABLE" in out
    assert "redis://:***@127.0.0.1:6399/7" in out
    assert "hunter2-secret" not in out and "redis-password" not in out


# --- an operator's mistakes: one line, exit 1 ----------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value"),
    [("GOVHUB_WORKERS", "0"), ("GOVHUB_PORT", "eighty"), ("GOVHUB_LOG_FORMAT", "xml")],
)
def test_a_bad_setting_is_one_line_naming_it(setting: str, value: str, tmp_path: Path) -> None:
    for args in (["init"], ["serve"], ["user", "list"]):
        line = one_line_error(govhub(tmp_path / "var", *args, **{setting: value}))
        assert f"bad setting {setting}='{value}'" in line, line
        assert "fix it in the environment or .env" in line


def test_a_missing_secret_in_prod_is_one_line(tmp_path: Path) -> None:
    for args in (["init"], ["serve"], ["timers", "run"], ["keys", "rotate"]):
        result = govhub(tmp_path / "var", *args, GOVHUB_MODE="prod", GOVHUB_SECRET_KEY=None)
        assert "GOVHUB_SECRET_KEY is required in prod mode" in one_line_error(result), args


def test_stores_not_migrated_are_one_line_saying_run_init(tmp_path: Path) -> None:
    for args in (["serve"], ["user", "list"], ["keys", "list"], ["calendar", "show", "2026"]):
        line = one_line_error(govhub(tmp_path / "var", *args))
        assert "not at this hub's schema: run 'govhub init' first" in line, args


def test_a_store_not_reachable_is_one_line_naming_its_setting(tmp_path: Path) -> None:
    for args in (["init"], ["user", "list"], ["demo"], ["licences", "kit"]):
        result = govhub(tmp_path / "var", *args, GOVHUB_TOWN_DB_URL=UNREACHABLE)
        line = one_line_error(result)
        assert "the town store is not reachable at" in line, line
        assert "postgresql+asyncpg://govhub:***@127.0.0.1:1/govhub" in line
        assert "check GOVHUB_TOWN_DB_URL" in line and "hunter2" not in line


def test_a_store_url_that_is_not_a_url_is_one_line(tmp_path: Path) -> None:
    line = one_line_error(govhub(tmp_path / "var", "init", GOVHUB_CITY_DB_URL="not a url"))
    assert "GOVHUB_<STORE>_DB_URL" in line
