"""A node's rows by their number in its store (``publicIds``), called as the hub calls
it for an ID of the previous release: each row of the kind numbered so, with its public
key, in one statement; a number the store does not give is not answered; and without
a hub token nothing is answered."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from levels.common.publicids import is_public_id
from levels.node.numbered import MODELS, NumberedKind
from resolvers.globalid import MAX_ROW_ID
from resolvers.legacy_ids import public_ids_at
from tests.node.conftest import MakeClient, statements
from tests.node.test_api import store_session


async def _numbered(app: Any, kind: NumberedKind) -> list[tuple[int, str]]:
    """(number, public key) of the first rows of ``kind`` in a node's store."""
    model = MODELS[kind]
    async with store_session(app) as session:
        rows = await session.execute(select(model.id, model.public_id).order_by(model.id).limit(3))
        return [(int(n), str(k)) for n, k in rows.all()]


@pytest.mark.parametrize("kind", list(NumberedKind))
async def test_a_nodes_rows_by_number_come_with_their_public_keys(
    node_client: MakeClient, node_apps: dict[str, Any], kind: NumberedKind
) -> None:
    # the node of the embedded map that keeps rows of the kind
    held = {node_id: await _numbered(app, kind) for node_id, app in node_apps.items()}
    node_id = next(n for n, rows in held.items() if rows)
    rows = held[node_id]
    client = node_client(node_id)
    numbers = [n for n, _ in reversed(rows)] + [MAX_ROW_ID]

    with statements(node_apps[node_id]) as counted:
        found = await public_ids_at(client, kind, numbers)

    # by number, each with its row's public key; the number no row has is not answered
    assert found == rows
    assert all(is_public_id(key) for _, key in found)
    assert counted["n"] == 1
    assert await public_ids_at(client, kind, []) == []


async def test_each_store_numbers_its_own_rows(
    node_client: MakeClient, node_apps: dict[str, Any]
) -> None:
    """A number asked of every node of the embedded map is answered by each store that
    numbers a rating so, with that store's own row: the number alone does not say which
    row it is, once several stores are asked."""
    kind = NumberedKind.EVALUATION
    held = {node_id: dict(await _numbered(app, kind)) for node_id, app in node_apps.items()}
    numbers = sorted({n for rows in held.values() for n in rows})
    found = {
        node_id: dict(await public_ids_at(node_client(node_id), kind, numbers))
        for node_id in node_apps
    }
    for node_id, rows in found.items():
        assert {n: k for n, k in rows.items() if n in held[node_id]} == held[node_id]
    shared = [n for n in numbers if sum(n in rows for rows in found.values()) > 1]
    assert shared, found
    for number in shared:
        keys = [rows[number] for rows in found.values() if number in rows]
        assert len(set(keys)) == len(keys)


async def test_without_a_hub_token_nothing_is_answered(raw: Any) -> None:
    response = await raw.post(
        "/graphql",
        json={"query": "{ publicIds(of: EVALUATION, numbers: [1]) { number publicId } }"},
    )
    assert response.status_code == 401
    assert "publicId" not in response.text
