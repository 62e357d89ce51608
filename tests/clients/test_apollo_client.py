"""The hub driven by Apollo Client in Node (tests/clients/apollo/apollo.mjs), the client
the front-ends use: HttpLink with a bearer token (it asks for
application/graphql-response+json first), InMemoryCache normalised by ``__typename`` +
``id``, and GraphQLWsLink (graphql-ws) for subscriptions, over uvicorn on loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.demo.accounts import DEMO_PASSWORD
from tests.support.served import require_node, run_node, served

APOLLO_DIR = Path(__file__).resolve().parent / "apollo"


async def test_apollo_client_queries_mutates_and_follows_a_case(app: Any) -> None:
    node = require_node(APOLLO_DIR)
    async with served(app) as base_url:
        run = await run_node(node, APOLLO_DIR / "apollo.mjs", base_url, DEMO_PASSWORD)
    assert run.returncode == 0, run.stderr or run.stdout
    report: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    case = report["case"]
    assert case["status"] == "SUBMITTED"
    key = f"Case:{case['id']}"

    # two queries reaching the same case by different roots share one cache entry
    reads = report["staffReads"]
    assert reads["key"] == key and reads["caseEntries"] == [key]
    assert reads["byNumber"]["id"] == reads["byNode"]["id"] == case["id"]
    assert report["rootRefs"] == {"case": {"__ref": key}, "node": {"__ref": key}}

    # the mutation's result updated that entry: both queries read ACCEPTED from the cache
    after = report["afterMutation"]
    assert after["byNumber"]["status"] == after["byNode"]["status"] == "ACCEPTED"
    assert after["cacheOnly"]["status"] == "ACCEPTED"

    # the subscription saw the case as it was, then the change the mutation made, and
    # merged it into the resident's own cache
    assert [e["status"] for e in report["events"]] == ["SUBMITTED", "ACCEPTED"]
    assert report["residentCache"]["status"] == "ACCEPTED"
    assert "subscriptionError" not in report
    print("Apollo Client warnings:", report["warnings"] or "none")
    assert report["warnings"] == []
