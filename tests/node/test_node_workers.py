"""The workers ``govhub node serve`` runs beside its API (``gateway/node_workers.py``),
on a node's own fresh store: its first timer pass signs the audit heads with the
node's own key, made on that pass."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from gateway.node_app import create_node_app
from gateway.node_workers import node_workers
from gateway.nodes import build_registry
from levels.audit.models import AuditHead
from levels.licences.models import LicenceKey
from tests.conftest import migrate_registry, suite_settings


async def test_a_fresh_nodes_first_timer_pass_signs_its_heads_with_its_new_key(
    tmp_path: Path,
) -> None:
    nodes_file = tmp_path / "nodes.toml"
    nodes_file.write_text('[[nodes]]\nid = "jinzhong"\nprefixes = ["1407"]\n', encoding="utf-8")
    settings = suite_settings(tmp_path, nodes=str(nodes_file))
    stores = build_registry(settings)
    await migrate_registry(stores)
    app = create_node_app(settings, "jinzhong", workers=node_workers)
    timers = next(w for w in app.state.workers if w.name == "timers")
    try:
        # the node has no key yet: the pass makes it. Made under a head's lock, it
        # waited on that lock's own transaction and the pass failed "database is
        # locked" after the store's busy timeout (SQLite), every pass until the relay
        # happened to make the key
        await asyncio.wait_for(timers.step(), timeout=120)
    finally:
        await app.state.dispose()
    async with stores["jinzhong"].sessions() as session:
        keys = (
            await session.scalars(
                select(LicenceKey.kid).where(LicenceKey.org_code == "node:jinzhong")
            )
        ).all()
        heads = (await session.execute(select(AuditHead.kid, AuditHead.signature))).all()
    await stores.dispose()
    assert len(keys) == 1
    assert heads and all(kid == keys[0] and signature for kid, signature in heads)
