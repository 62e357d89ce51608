"""Schemathesis over every query and mutation, as every kind of viewer: no server error.

A server error is a 5xx, or a GraphQL error with a ``path`` (raised while resolving a
field) and no ``extensions.code``: an untyped exception in a resolver, which prod masks
as 内部错误. Refusals are fine — typed domain codes, UNAUTHENTICATED/FORBIDDEN, limits,
validation errors without a path.

The documents come from ``schemathesis.graphql.from_asgi("/graphql", app)`` (its
hypothesis-graphql strategies, with the custom scalars registered below), drawn with a
fixed seed per viewer and operation and a few per operation so that the whole file
stays within a few minutes per backend; they are sent in-process over httpx to a hub
with a demo city of its own (tests/fuzz/conftest.py)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis

# imported (and assertion-rewritten by pytest) here, at collection, rather than lazily on
# the first load of a schema deep in a fixture's stack: CPython 3.11's AST validator can
# miscount its recursion depth there ("AST constructor recursion depth mismatch")
import schemathesis.specs.graphql.analysis
import schemathesis.specs.graphql.stateful
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.graphql import nodes

from levels.common.clock import CHINA
from tests.fuzz.conftest import ROLES, FuzzHub, schema_app

# the demo's years (chinesecalendar knows 2025–2026), and some days outside them
DATES = st.dates(dt.date(2024, 12, 1), dt.date(2027, 1, 31))
schemathesis.graphql.scalar("Date", DATES.map(lambda d: nodes.String(d.isoformat())))
schemathesis.graphql.scalar(
    "DateTime",
    st.datetimes(dt.datetime(2024, 12, 1), dt.datetime(2027, 1, 31)).map(
        lambda t: nodes.String(t.replace(tzinfo=CHINA).isoformat())
    ),
)

# documents per operation and viewer; GOVHUB_FUZZ_SCALE=10 digs ten times deeper (by hand)
SCALE = int(os.environ.get("GOVHUB_FUZZ_SCALE", "1"))
EXAMPLES = {"Query": 6 * SCALE, "Mutation": 4 * SCALE}
# last: a viewer that signs itself out is signed out for the rest of its run
LAST = ("logout",)


def load_operations(tmp: Path) -> dict[str, list[Any]]:
    schema = schemathesis.graphql.from_asgi("/graphql", schema_app(tmp))
    found: dict[str, list[Any]] = {"Query": [], "Mutation": []}
    for result in schema.get_all_operations():
        operation = result.ok()
        found[operation.definition.type_.name].append(operation)
    for ops in found.values():
        ops.sort(key=lambda op: (op.definition.field_name in LAST, op.label))
    return found


@pytest.fixture(scope="module")
def operations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    return load_operations(tmp_path_factory.mktemp("introspect"))


def draw(operation: Any, count: int, role: str | None) -> list[str]:
    """``count`` documents for one operation as one viewer: the same on every run (a
    fixed seed per viewer and operation, no example database), different per viewer."""
    documents: list[str] = []

    @seed(f"{role}/{operation.label}")
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    # valid documents, and documents with arguments of the wrong type or shape
    @given(case=operation.as_strategy() | operation.as_strategy(GenerationMode.NEGATIVE))
    def collect(case: Any) -> None:
        documents.append(case.body["query"] if isinstance(case.body, dict) else case.body)

    collect()
    return documents


def server_errors(label: str, document: str, response: httpx.Response) -> list[str]:
    """What went wrong on the server's side: a 5xx, or an untyped error in a resolver."""
    found = f"{label}: {document}\n  -> "
    if response.status_code >= 500:
        return [f"{found}HTTP {response.status_code}: {response.text[:500]}"]
    try:
        body = response.json()
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    return [
        f"{found}{e}"
        for e in body.get("errors") or []
        if e.get("path") and not (e.get("extensions") or {}).get("code")
    ]


@pytest.mark.parametrize("root", ["Query", "Mutation"])
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
async def test_no_server_errors(
    fuzz_hub: FuzzHub, operations: dict[str, list[Any]], role: str | None, root: str
) -> None:
    token = await fuzz_hub.token_for(role)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    failures = []
    async with fuzz_hub.client() as http:
        for operation in operations[root]:
            for document in draw(operation, EXAMPLES[root], role):
                response = await http.post("/graphql", json={"query": document}, headers=headers)
                failures += server_errors(operation.label, document, response)
    assert not failures, "\n\n".join(failures)
