"""The issuers' signed status lists at a node (``statusLists``), called as the hub calls
them for the offline kit and ``/licences/status/{orgCode}``: each node signs the lists
of the issuers whose licences it keeps as theirs — with the issuer's key kept in its
store, the claims the hub's SQL path signs over that store — and no other (the city
node's library copies of the others' licences are not its to sign, and no key is made
for them); an org asked for is the only one answered, one of an area the node serves no
part of is refused."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from sqlalchemy import func, select

from gateway.settings import Settings
from levels.common.clock import FixedClock
from levels.common.codes import make_uscc
from levels.common.errors import DomainError, ErrorCode
from levels.licences.models import ELicence, LicenceKey
from levels.licences.tokens import STATUS_TYP
from resolvers import node_licence_calls
from resolvers.licensing import Licensing
from resolvers.nodeclient import NodeClient
from resolvers.registry import NodeRegistry
from tests.node.conftest import MakeClient
from tests.node.test_api import store_session

TTL = 86400


async def _keys(app: Any) -> int:
    async with store_session(app) as session:
        return int(await session.scalar(select(func.count()).select_from(LicenceKey)) or 0)


async def _opened(app: Any, token: str) -> tuple[str, dict[str, Any]]:
    """The list's key id and claims, its signature checked with that key as the node's
    store keeps it (an org's key: the one the kit's JWKS publishes)."""
    header = jwt.get_unverified_header(token)
    assert header["typ"] == STATUS_TYP
    async with store_session(app) as session:
        key = await session.get(LicenceKey, header["kid"])
    assert key is not None
    claims = jwt.decode(
        token, jwt.PyJWK(key.public_jwk).key, algorithms=["ES256"], options={"verify_exp": False}
    )
    assert claims["iss"] == key.org_code
    return header["kid"], claims


async def _issuers(app: Any, *levels: str) -> set[str]:
    async with store_session(app) as session:
        return set(
            await session.scalars(
                select(ELicence.issuer_org_code).where(ELicence.issuer_level.in_(levels))
            )
        )


@pytest.mark.parametrize("node_id", ["city", "county", "town", "village"])
async def test_each_node_signs_its_issuers_lists_as_the_sql_path_does(
    node_client: MakeClient,
    node_apps: dict[str, Any],
    nodes: NodeRegistry,
    settings: Settings,
    clock: FixedClock,
    node_id: str,
) -> None:
    app = node_apps[node_id]
    now = clock.now()
    keys = await _keys(app)

    found = await node_licence_calls.status_lists(node_client(node_id), now=now, ttl_seconds=TTL)

    licensing = Licensing(nodes, clock, secret=settings.identity_secret(), status_ttl_seconds=TTL)
    by_sql = await licensing.status_lists_of(nodes[node_id], now)
    assert sorted(found) == sorted(by_sql) == list(found)  # in code order
    # the issuers of the node's own level: the city's store also keeps the library's
    # copies of the county's and the towns' licences, which it does not sign
    assert set(found) == await _issuers(app, node_id.upper())
    for org, token in found.items():
        kid, claims = await _opened(app, token)
        assert (kid, claims) == await _opened(app, by_sql[org]), org
        assert claims["iss"] == org and claims["exp"] == int(now.timestamp()) + TTL
    assert await _keys(app) == keys  # every issuer had its key: none made
    if node_id in ("county", "town"):
        assert found, "the demo issues licences at the county and its towns"


async def test_an_org_asked_for_is_the_only_one_answered(
    node_client: MakeClient, node_apps: dict[str, Any], clock: FixedClock
) -> None:
    town = node_client("town")
    county = node_client("county")
    now = clock.now()
    every = await node_licence_calls.status_lists(town, now=now, ttl_seconds=TTL)
    org = next(iter(every))

    one = await node_licence_calls.status_lists(town, now=now, ttl_seconds=TTL, org_codes=[org])
    assert list(one) == [org]
    assert (await _opened(node_apps["town"], one[org]))[1]["lists"] == (
        await _opened(node_apps["town"], every[org])
    )[1]["lists"]
    # a town's org at the county node, which serves its area but keeps none of its
    # licences: nothing; no org: nothing
    assert (
        await node_licence_calls.status_lists(county, now=now, ttl_seconds=TTL, org_codes=[org])
        == {}
    )
    assert await node_licence_calls.status_lists(town, now=now, ttl_seconds=TTL, org_codes=[]) == {}


async def test_an_org_of_an_area_not_the_nodes_and_bad_input_are_refused(
    yuci: tuple[NodeClient, Any], clock: FixedClock
) -> None:
    client, app = yuci
    now = clock.now()
    keys = await _keys(app)
    taigu = make_uscc("12140703" + "MB0000001")  # credit code of 太谷区: not 榆次区's node's
    asked: list[tuple[dict[str, Any], ErrorCode]] = [
        ({"org_codes": [taigu]}, ErrorCode.DIVISION_NOT_OWNED),
        ({"org_codes": ["not-a-code"]}, ErrorCode.INVALID_ORG_CODE),
        ({"ttl_seconds": 0}, ErrorCode.BAD_USER_INPUT),
    ]
    for given, code in asked:
        with pytest.raises(DomainError) as refused:
            await node_licence_calls.status_lists(
                client, **{"now": now, "ttl_seconds": TTL, **given}
            )
        assert refused.value.code is code, given
    # 榆次区's node keeps 榆次区's county licences (on the county store) and signs them
    found = await node_licence_calls.status_lists(client, now=now, ttl_seconds=TTL)
    assert found
    for org, token in found.items():
        assert org[2:8] == "140702"  # 榆次区's orgs only, not the other counties'
        assert (await _opened(app, token))[1]["iss"] == org
    assert await _keys(app) == keys


async def test_a_naive_instant_is_refused(node_client: MakeClient, clock: FixedClock) -> None:
    naive = clock.now().replace(tzinfo=None)
    with pytest.raises(DomainError) as refused:
        await node_licence_calls.status_lists(node_client("town"), now=naive, ttl_seconds=TTL)
    assert refused.value.code is ErrorCode.BAD_USER_INPUT
