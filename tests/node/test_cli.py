"""``govhub node migrate|init|sdl|serve`` as an operator meets them: a line per store
and a summary, each reading only the settings its help names, and an unknown node or a
store not migrated refused in one line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from gateway.cli import main
from gateway.settings import Settings
from tests.gateway.test_cli_operator import govhub, one_line_error

pytestmark = pytest.mark.skipif(
    os.environ.get("GOVHUB_TEST_BACKEND") == "postgres",
    reason="the command line does not depend on the backend: checked in the SQLite pass",
)

PER_COUNTY = """
[[nodes]]
id = "jinzhong"
prefixes = ["1407"]
levels = ["CITY"]
database = "sqlite+aiosqlite:///{var}/jinzhong.sqlite3"

[[nodes]]
id = "yuci"
prefixes = ["1407"]
levels = ["COUNTY", "TOWN", "VILLAGE"]
database = "sqlite+aiosqlite:///{var}/yuci.sqlite3"
"""


def test_init_then_migrate_a_node_of_the_embedded_map(tmp_path: Path) -> None:
    var = tmp_path / "var"
    first = govhub(var, "node", "init", "--node", "county")
    assert first.exit_code == 0, first.output
    assert "county store (sqlite+aiosqlite:///" in first.output and "empty →" in first.output
    assert first.output.strip().splitlines()[-1].startswith("node county ready: store at ")
    assert (var / "county.sqlite3").exists() and not (var / "town.sqlite3").exists()
    again = govhub(var, "node", "migrate", "--node", "county")
    assert again.exit_code == 0, again.output
    assert "already" in again.output


def test_a_node_of_a_configured_map_gets_the_database_its_entry_names(tmp_path: Path) -> None:
    var = tmp_path / "var"
    result = govhub(
        var, "node", "migrate", "--node", "yuci", GOVHUB_NODES=PER_COUNTY.format(var=var)
    )
    assert result.exit_code == 0, result.output
    assert (var / "yuci.sqlite3").exists()


def test_an_unknown_node_or_a_store_not_migrated_is_one_line(tmp_path: Path) -> None:
    var = tmp_path / "var"
    line = one_line_error(govhub(var, "node", "migrate", "--node", "nowhere"))
    assert "no node 'nowhere' in the node map" in line
    line = one_line_error(govhub(var, "node", "serve", "--node", "town", "--port", "1"))
    assert "govhub node migrate --node town" in line


@pytest.mark.parametrize(
    "args",
    [["node", "migrate", "--node", "village"], ["node", "sdl", "--node", "city"]],
    ids=["migrate", "sdl"],
)
def test_a_node_command_reads_no_setting_its_help_leaves_out(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: set[str] = set()
    original = Settings.__getattribute__

    def spy(self: Settings, name: str) -> Any:
        if name in Settings.model_fields:
            read.add(f"GOVHUB_{name.upper()}")
        return original(self, name)

    monkeypatch.setattr(Settings, "__getattribute__", spy)
    result: Result = govhub(tmp_path / "var", *args)
    assert result.exit_code == 0, result.output
    command: Any = main.commands["node"].commands[args[1]]  # type: ignore[attr-defined]
    assert read and read <= set(command.govhub_settings), read - set(command.govhub_settings)
