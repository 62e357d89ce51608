"""``GOVHUB_NODE_CALLS=api``: the hub reaches the nodes without an address (the
embedded default's) through the node API, in-process, and answers as over SQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from tests.auth.conftest import own_hub
from tests.scenarios.desk import CASE, DISABILITY_CARD, STAFF, Desk, actions

DIVISION = """
query($code: String!) {
  division(code: $code) { code name level parent { code name } }
}"""


@asynccontextmanager
async def hub_of(settings: Settings, node_calls: str) -> AsyncIterator[tuple[Desk, dict[str, Any]]]:
    """A hub over the demo stores with ``node_calls``, and the calls its node clients
    made, by document's first word after the operation type."""
    mode = settings.model_copy(update={"node_calls": node_calls})
    nodes = NodeRegistry.from_settings(mode)
    calls: dict[str, Any] = {"total": 0, "documents": []}
    for node in nodes:
        if node.client is None:
            continue
        execute = node.client.execute

        async def counted(document: str, variables: Any = None, _execute: Any = execute) -> Any:
            calls["total"] += 1
            calls["documents"].append(document)
            return await _execute(document, variables)

        node.client.execute = counted  # type: ignore[method-assign]
    try:
        async with own_hub(mode, nodes) as hub:
            desk = Desk(hub)
            await desk.sign_in("resident1", *STAFF)
            yield desk, calls
    finally:
        await nodes.dispose()


async def test_every_node_without_an_address_has_an_in_process_client(
    settings: Settings,
) -> None:
    for mode, expected in (("sql", False), ("api", True)):
        nodes = NodeRegistry.from_settings(settings.model_copy(update={"node_calls": mode}))
        try:
            assert [n.client is not None for n in nodes] == [expected] * 4, mode
        finally:
            await nodes.dispose()


async def test_division_by_code_goes_through_the_node_api_and_answers_as_sql(
    settings: Settings,
) -> None:
    answers = {}
    for mode in ("sql", "api"):
        async with hub_of(settings, mode) as (desk, calls):
            answers[mode] = await desk.run("resident1", DIVISION, code="140702000000")
            if mode == "sql":
                assert calls["total"] == 0
            else:
                assert calls["total"] >= 1
                assert any("_entities" in d for d in calls["documents"]), calls
    assert answers["api"] == answers["sql"]
    assert answers["api"]["division"]["name"] == "榆次区"


async def test_accepting_a_case_goes_through_the_node_api_and_answers_as_sql(
    settings: Settings,
) -> None:
    def shape(case: dict[str, Any]) -> dict[str, Any]:
        return {
            "status": case["status"],
            "version": case["version"],
            "actions": actions(case),
            "clock": {k: case["clock"][k] for k in ("state", "acceptedOn", "dueOn")},
        }

    answers = {}
    for mode in ("sql", "api"):
        async with hub_of(settings, mode) as (desk, calls):
            materials = await desk.materials("000700400100")
            submitted = await desk.submit("resident1", DISABILITY_CARD, materials)
            assert submitted["errors"] == [], submitted
            number = submitted["case"]["number"]
            before = calls["total"]
            accepted = await desk.act("yuci.receptionist", "acceptCase", number=number)
            assert accepted["errors"] == [], accepted
            read = (await desk.run("yuci.receptionist", CASE, number=number))["case"]
            assert read["status"] == accepted["case"]["status"] == "ACCEPTED"
            answers[mode] = shape(read)
            if mode == "sql":
                assert calls["total"] == 0
            else:
                steps = [d for d in calls["documents"] if "takeCaseStep" in d]
                assert steps, calls["documents"]
                assert calls["total"] > before
    assert answers["api"] == answers["sql"]
