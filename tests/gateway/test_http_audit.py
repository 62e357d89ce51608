"""The official GraphQL-over-HTTP audit: ``graphql-http``'s ``serverAudits`` (Node, in
tests/http_audit/) against the demo hub served by uvicorn. Every MUST audit passes; the
SHOULD and MAY results are printed and written to tests/http_audit/out/results.md (the
docs/api/http.md summarises them)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from tests.support.served import require_node, run_node, served

AUDIT_DIR = Path(__file__).resolve().parents[1] / "http_audit"
OUT = AUDIT_DIR / "out" / "results.md"


def report(results: list[dict[str, Any]]) -> str:
    counts: Counter[tuple[str, bool]] = Counter((r["level"], r["status"] == "ok") for r in results)
    lines = ["# graphql-http server audits against GovHub", ""]
    for level in ("MUST", "SHOULD", "MAY"):
        passed, total = counts[level, True], counts[level, True] + counts[level, False]
        lines.append(f"* {level}: {passed} of {total} pass")
    lines += ["", "| id | audit | result |", "|---|---|---|"]
    for r in results:
        outcome = "ok" if r["status"] == "ok" else f"{r['status']}: {r.get('reason', '')}"
        lines.append(f"| {r['id']} | {r['name']} | {outcome.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


async def test_every_must_audit_of_graphql_http_passes(app: Any) -> None:
    node = require_node(AUDIT_DIR)
    async with served(app) as base_url:
        run = await run_node(node, AUDIT_DIR / "audit.mjs", f"{base_url}/graphql")
    assert run.returncode == 0, run.stderr
    results: list[dict[str, Any]] = json.loads(run.stdout)
    assert len(results) > 50, "graphql-http ran fewer audits than it has"
    text = report(results)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(text)
    failed_musts = [r for r in results if r["level"] == "MUST" and r["status"] != "ok"]
    assert failed_musts == []
