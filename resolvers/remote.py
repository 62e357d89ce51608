"""The hub's reads through a node's API (DESIGN §2, "A node is a service"), for a node
the map gives an ``http(s)://`` address: entity lookups by key, one ``_entities`` call
per node per batch, and the key-range list of cases with its cursor. Each answer is the
node's row, every column (``columns``, ``levels/common/rowcodec.py``), made into a
transient instance of the mapped class the hub's types already read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from levels.cases.models import Case
from levels.common.models import Division
from levels.common.rowcodec import decode_row
from levels.node.cursors import case_cursor
from resolvers.nodeclient import NodeCallFailed, NodeClient

_CASES = """
query Cases($under: String!, $first: Int!, $after: String) {
  cases(under: $under, first: $first, after: $after) {
    items { columns }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def cases_by_number(client: NodeClient, numbers: Sequence[str]) -> list[Case]:
    """The node's rows of these cases (one call for the batch)."""
    found = await client.entities("Case", [{"number": n} for n in numbers], ["columns"])
    return [decode_row(Case, item["columns"]) for item in found if item is not None]


async def divisions_by_code(client: NodeClient, codes: Sequence[str]) -> list[Division]:
    """The node's rows of these divisions (one call for the batch)."""
    found = await client.entities("Division", [{"code": c} for c in codes], ["columns"])
    return [decode_row(Division, item["columns"]) for item in found if item is not None]


@dataclass(frozen=True)
class CasesPage:
    rows: list[Case]
    has_next: bool


async def cases_under(
    client: NodeClient, under: str, *, after: str | None, first: int
) -> CasesPage:
    """A page of the node's cases received at or under ``under``, in number order,
    after the case number ``after``."""
    variables = {
        "under": under,
        "first": first,
        "after": None if after is None else case_cursor(after),
    }
    data = await client.query(_CASES, variables)
    page = data.get("cases")
    if not isinstance(page, dict):
        raise NodeCallFailed(f"node {client.node_id}: cases answered {page!r}")
    rows = [decode_row(Case, item["columns"]) for item in page["items"]]
    return CasesPage(rows, bool(page["pageInfo"]["hasNextPage"]))
