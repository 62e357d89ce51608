"""A node's SDL (``govhub node sdl``) composes with Apollo Federation 2
(``@apollo/composition`` in Node, tests/node/composition), beside a subgraph that
refers to its entities by key: standard federation tooling can route to a node."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from gateway.cli import main
from tests.support.served import require_node, run_node

COMPOSITION = Path(__file__).resolve().parent / "composition"

# another subgraph that only refers to the node's cases and divisions by their keys
REFERRING = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Case @key(fields: "number", resolvable: false) { number: String! }
type Division @key(fields: "code", resolvable: false) { code: String! }
type Review { case: Case!  division: Division!  note: String! }
type Query { reviews: [Review!]! }
"""

KEYS = {
    "Division": "code",
    "ServiceOrg": "code",
    "Matter": "basicCode",
    "MatterImplementation": "code",
    "Case": "number",
    "ELicence": "id",
    "Delegation": "id",
}


def node_sdl(node_id: str) -> str:
    printed = CliRunner().invoke(main, ["node", "sdl", "--node", node_id])
    assert printed.exit_code == 0, printed.output
    return printed.output


def test_the_node_sdl_declares_its_entities_with_federation_2_keys() -> None:
    sdl = node_sdl("county")
    assert sdl.startswith('schema @link(url: "https://specs.apollo.dev/federation/v2.')
    for typename, key in KEYS.items():
        assert re.search(rf'^type {typename} @key\(fields: "{key}"\) \{{', sdl, re.M), typename
    assert "deliver(" in sdl and "cases(" in sdl and "implementations(" in sdl


async def test_the_node_sdl_composes_into_a_supergraph(tmp_path: Path) -> None:
    node = require_node(COMPOSITION)
    county = tmp_path / "county.graphql"
    county.write_text(node_sdl("county"), encoding="utf-8")
    referring = tmp_path / "reviews.graphql"
    referring.write_text(REFERRING, encoding="utf-8")
    run = await run_node(
        node, COMPOSITION / "compose.mjs", f"county={county}", f"reviews={referring}"
    )
    report: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    assert run.returncode == 0 and report["ok"], report.get("errors") or run.stderr
    supergraph = report["supergraph"]
    for typename, key in KEYS.items():
        assert re.search(
            rf'type {typename}\n  @join__type\(graph: COUNTY, key: "{key}"\)', supergraph
        ), typename
    assert '@join__type(graph: REVIEWS, key: "number", resolvable: false)' in supergraph
