"""A node's GraphQL API (DESIGN §2, "A node is a service"): its entities with Apollo
Federation 2 keys — Division(code), ServiceOrg(code), Matter(basicCode),
MatterImplementation(code), Case(number), ELicence(id), Delegation(id) — looked up in
batches through ``_entities``; ordered lists by key range with cursors; and its inbox
(``deliver``) and the mutations that write its rows (``schema/node/mutation.py``,
``schema/node/case_mutation.py``, ``schema/node/window_mutation.py``,
``schema/node/licence_mutation.py``, ``schema/node/licence_library.py``,
``schema/node/delegation_mutation.py``,
``schema/node/catalogue_mutation.py``, ``schema/node/intake_mutation.py``,
``schema/node/rating_mutation.py``, ``schema/node/proxy_mutation.py``,
``schema/node/evaluation_mutation.py``, ``schema/node/report_mutation.py``), a keyed
mutation's records (``schema/node/idempotency.py``), and its
reads beyond the entities (``schema/node/lists.py``, ``schema/node/status_lists.py`` …).
Served by ``gateway.node_app.create_node_app``; the hub calls it through
``resolvers.nodeclient.NodeClient``. It reads and writes through ``levels/`` with the
node's own sessions, never through the hub's resolvers."""

from __future__ import annotations

import strawberry

from schema.node.case_mutation import CaseMutations
from schema.node.catalogue import CatalogueQueries
from schema.node.catalogue_mutation import CatalogueMutations
from schema.node.context import NodeContext
from schema.node.delegation_mutation import DelegationMutations
from schema.node.errors import NodeErrors, NodeSchema
from schema.node.evaluation_mutation import EvaluationMutations
from schema.node.hall_lists import HallListQueries
from schema.node.idempotency import IdempotencyMutations, IdempotencyQueries
from schema.node.intake_mutation import IntakeMutations
from schema.node.licence_library import LibraryMutations, LibraryQueries
from schema.node.licence_mutation import LicenceMutations
from schema.node.lists import ListQueries
from schema.node.mutation import NodeMutations
from schema.node.numbered import NumberedQueries
from schema.node.proxy_mutation import ProxyMutations
from schema.node.query import NodeQuery
from schema.node.rating_mutation import RatingMutations
from schema.node.report_mutation import ReportMutations
from schema.node.status_lists import StatusListQueries
from schema.node.supervision_lists import SupervisionQueries
from schema.node.types import ENTITIES
from schema.node.window_mutation import WindowMutations

__all__ = ["NodeContext", "build_node_schema", "node_sdl"]


@strawberry.type(name="Mutation", description="What a node is asked to do")
class Mutation(
    NodeMutations,
    CaseMutations,
    WindowMutations,
    LicenceMutations,
    LibraryMutations,
    DelegationMutations,
    CatalogueMutations,
    IntakeMutations,
    RatingMutations,
    ProxyMutations,
    EvaluationMutations,
    ReportMutations,
    IdempotencyMutations,
):
    """The node's mutations: its inbox, case steps and the other changes of a case,
    its hall's queue, a case received below the deciding org, 代办, 好差评 and what
    follows a rating (rectification, appeal, complaints), a town centre's monthly
    report, the licences it issued, the
    library's copies, a county's delegations and the catalogue's publication."""


@strawberry.type(
    name="Query", description="What a node serves: its entities (by key) and ordered lists"
)
class Query(
    NodeQuery,
    CatalogueQueries,
    ListQueries,
    HallListQueries,
    LibraryQueries,
    StatusListQueries,
    SupervisionQueries,
    NumberedQueries,
    IdempotencyQueries,
):
    """The node's reads: its entities, its lists, the catalogue's lists, the licence
    library, its issuers' signed status lists, the supervision figures' counts and
    lists, and the rows its store numbers by their number (an ID of the previous
    release)."""


def build_node_schema() -> strawberry.federation.Schema:
    return NodeSchema(
        query=Query,
        mutation=Mutation,
        types=ENTITIES,
        extensions=[NodeErrors],
        federation_version="2.7",
    )


def node_sdl() -> str:
    """The node's SDL, as ``govhub node sdl`` prints it (federation directives
    included, as composition tools read it)."""
    return build_node_schema().as_str() + "\n"
