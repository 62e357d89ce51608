"""The node's ``/graphql`` as the hub calls it (``gateway/node_http.py``): a document
parsed and validated once and reused, a verified hub token remembered until its end,
and what is not a JSON POST answered by Strawberry's view as before."""

from __future__ import annotations

import time
from typing import Any

import httpx
from starlette.applications import Starlette

from auth.hub_tokens import HubKey, HubTokenSigner, HubTokenVerifier, StaticKeys
from gateway.node_http import HubAuth

ABOUT = {"query": "query About { about { id } }"}


def bearer(signer: HubTokenSigner) -> dict[str, str]:
    return {"Authorization": f"Bearer {signer.token('county')}"}


async def test_a_document_is_parsed_and_validated_once_and_answers_alike(
    raw: httpx.AsyncClient, signer: HubTokenSigner, node_apps: dict[str, Starlette]
) -> None:
    cache = node_apps["county"].state.documents
    first = await raw.post("/graphql", json=ABOUT, headers=bearer(signer))
    tree = cache.parsed[ABOUT["query"]]
    second = await raw.post("/graphql", json=ABOUT, headers=bearer(signer))
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() == {"data": {"about": {"id": "county"}}}
    assert cache.parsed[ABOUT["query"]] is tree
    assert ABOUT["query"] in cache.valid


async def test_an_invalid_document_is_refused_each_time_and_not_taken_as_valid(
    raw: httpx.AsyncClient, signer: HubTokenSigner, node_apps: dict[str, Starlette]
) -> None:
    cache = node_apps["county"].state.documents
    wrong = {"query": "query Wrong { about { noSuchField } }"}
    for _ in range(2):
        response = await raw.post("/graphql", json=wrong, headers=bearer(signer))
        assert response.status_code == 200
        assert "noSuchField" in response.json()["errors"][0]["message"]
    assert wrong["query"] not in cache.valid
    broken = {"query": "query Broken { about { "}
    response = await raw.post("/graphql", json=broken, headers=bearer(signer))
    assert response.json()["errors"][0]["message"].startswith("Syntax Error")
    assert broken["query"] not in cache.parsed


async def test_variables_are_not_part_of_what_is_kept(
    raw: httpx.AsyncClient, signer: HubTokenSigner
) -> None:
    document = (
        "query E($r: [_Any!]!) { _entities(representations: $r) { ... on Division { code } } }"
    )
    answers = []
    for code in ("140702000000", "140703000000"):
        variables = {"r": [{"__typename": "Division", "code": code}]}
        body = {"query": document, "variables": variables}
        response = await raw.post("/graphql", json=body, headers=bearer(signer))
        answers.append(response.json()["data"]["_entities"][0])
    assert answers[0] == {"code": "140702000000"}
    assert answers[1] is None or answers[1] == {"code": "140703000000"}


async def test_what_is_not_a_json_post_goes_to_strawberrys_view(
    raw: httpx.AsyncClient, signer: HubTokenSigner
) -> None:
    garbled = await raw.post(
        "/graphql",
        content=b"{not json",
        headers={**bearer(signer), "Content-Type": "application/json"},
    )
    assert garbled.status_code == 400
    no_query = await raw.post("/graphql", json={"variables": {}}, headers=bearer(signer))
    assert no_query.status_code == 400
    unsigned = await raw.post("/graphql", content=b"{not json")
    assert unsigned.status_code == 401
    got = await raw.get("/graphql", headers=bearer(signer))
    assert got.status_code == 405


class CountingVerifier(HubTokenVerifier):
    def __init__(self, key: HubKey) -> None:
        super().__init__("county", StaticKeys(key.jwks()))
        self.checks = 0

    async def verify(self, token: str) -> dict[str, Any]:
        self.checks += 1
        return await super().verify(token)


async def test_a_verified_token_is_believed_until_its_end_and_no_longer() -> None:
    key = HubKey.generate()
    now = [time.time()]
    verifier = CountingVerifier(key)
    auth = HubAuth(verifier, clock=lambda: now[0])
    token = HubTokenSigner(key, seconds=30).token("county")
    assert await auth.check(f"Bearer {token}")
    assert await auth.check(f"Bearer {token}")
    assert verifier.checks == 1
    now[0] += 31  # past its end as this node's clock says: verified again
    assert await auth.check(f"Bearer {token}")
    assert verifier.checks == 2
    assert not await auth.check("Bearer not-a-jwt")
    assert not await auth.check("")


ENTITIES = (
    "query Entities($representations: [_Any!]!) { _entities(representations: "
    "$representations) { ... on Division { columns } } }"
)


def divisions(*codes: str) -> dict[str, Any]:
    return {"representations": [{"__typename": "Division", "code": c} for c in codes]}


async def test_the_hubs_entities_are_answered_past_the_execution_and_alike(
    raw: httpx.AsyncClient, signer: HubTokenSigner, node_apps: dict[str, Starlette]
) -> None:
    app = node_apps["county"]
    shortcut = app.endpoint.shortcut  # type: ignore[attr-defined]
    taken: list[Any] = []
    original = shortcut.answer

    async def counting(*args: Any) -> Any:
        found = await original(*args)
        taken.append(found)
        return found

    shortcut.answer = counting
    try:
        body = {"query": ENTITIES, "variables": divisions("140702000000", "140799000000")}
        first = await raw.post("/graphql", json=body, headers=bearer(signer))  # executed
        second = await raw.post("/graphql", json=body, headers=bearer(signer))  # the shortcut
    finally:
        shortcut.answer = original
    assert first.content == second.content
    entities = second.json()["data"]["_entities"]
    assert entities[0]["columns"]["code"] == "140702000000" and entities[1] is None
    assert len(taken) == 1 and taken[0] is not None


async def test_a_refusal_or_another_shape_is_executed_as_before(
    raw: httpx.AsyncClient, signer: HubTokenSigner
) -> None:
    body = {"query": ENTITIES, "variables": divisions("140702000000")}
    await raw.post("/graphql", json=body, headers=bearer(signer))  # kept, and valid
    # the city, which the county node does not own: refused by the scope check, as executed
    refused = await raw.post(
        "/graphql",
        json={"query": ENTITIES, "variables": divisions("140700000000")},
        headers={**bearer(signer), "Accept-Language": "en"},
    )
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "DIVISION_NOT_OWNED"
    assert "does not own the division" in error["message"]
    # a key that is not a string: BAD_USER_INPUT, as executed
    wrong = {"representations": [{"__typename": "Division", "code": 140702000000}]}
    bad = await raw.post(
        "/graphql", json={"query": ENTITIES, "variables": wrong}, headers=bearer(signer)
    )
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # an alias is not the shortcut's shape: executed, and answered under the alias
    aliased = ENTITIES.replace("{ columns }", "{ row: columns }")
    for _ in range(2):
        answer = await raw.post(
            "/graphql",
            json={"query": aliased, "variables": divisions("140702000000")},
            headers=bearer(signer),
        )
        assert answer.json()["data"]["_entities"][0]["row"]["code"] == "140702000000"
    # a representation of another type than the fragment's: executed
    other = {"representations": [{"__typename": "ServiceOrg", "code": "x"}]}
    answer = await raw.post(
        "/graphql", json={"query": ENTITIES, "variables": other}, headers=bearer(signer)
    )
    assert answer.json()["data"]["_entities"] == [None]
