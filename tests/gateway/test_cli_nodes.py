"""``govhub nodes``: the node map as an operator reads it — ids, prefixes, levels,
addresses, databases with passwords masked — and each node's health."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.gateway.test_cli_operator import UNREACHABLE, govhub

pytestmark = pytest.mark.skipif(
    os.environ.get("GOVHUB_TEST_BACKEND") == "postgres",
    reason="the command line does not depend on the backend: checked in the SQLite pass",
)

PER_COUNTY = f"""
[[nodes]]
id = "jinzhong"
prefixes = ["140700"]
levels = ["CITY"]

[[nodes]]
id = "yuci"
prefixes = ["140702"]
address = "http://10.1.2.3:8100"

[[nodes]]
id = "taigu"
prefixes = ["140703"]
database = "{UNREACHABLE}"
"""


def test_the_embedded_default_is_a_node_per_level(tmp_path: Path) -> None:
    var = tmp_path / "var"
    assert govhub(var, "init").exit_code == 0
    shown = govhub(var, "nodes")
    assert shown.exit_code == 0, shown.output
    assert "node map: embedded default (4 nodes)" in shown.output
    for level in ("city", "county", "town", "village"):
        assert f"\n{level}\n" in f"\n{shown.output}"
        assert f"{level}.sqlite3" in shown.output
    assert "levels:   COUNTY" in shown.output
    assert "prefixes: *" in shown.output
    assert "health:   reachable, at " in shown.output


def test_a_per_county_map_shows_each_node_and_the_one_that_does_not_answer(
    tmp_path: Path,
) -> None:
    var = tmp_path / "var"
    nodes_file = tmp_path / "nodes.toml"
    nodes_file.write_text(PER_COUNTY, encoding="utf-8")
    shown = govhub(var, "nodes", GOVHUB_NODES=str(nodes_file))
    assert shown.exit_code == 1
    out = shown.output
    assert f"node map: {nodes_file} (3 nodes)" in out
    assert "prefixes: 140702" in out and "levels:   COUNTY/TOWN/VILLAGE" in out
    assert "address:  http://10.1.2.3:8100" in out
    # a node without a database gets its SQLite file under the data dir
    assert (var / "nodes" / "yuci" / "store.db").as_posix() in out
    assert "health:   reachable, not migrated" in out
    # the password is masked; the node that does not answer is named
    assert "hunter2" not in out and "***" in out
    assert "NOT REACHABLE" in out
    assert "nodes not ready: jinzhong, yuci, taigu" in out


def test_help_names_the_node_map_setting() -> None:
    shown = govhub(Path("unused"), "nodes", "-h")
    assert "GOVHUB_NODES" in " ".join(shown.output.split())
