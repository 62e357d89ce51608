"""Partial results: a node that did not answer becomes an error next to the data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

from aiodataloader import DataLoader
from graphql import GraphQLError

from levels.common.errors import ErrorCode, message_for
from resolvers.fanout import NodeUnavailable

if TYPE_CHECKING:  # schema imports resolvers: at run time this would be a cycle
    from schema.info import Info

K = TypeVar("K")
V = TypeVar("V")


def unavailable_error(info: Info, failure: NodeUnavailable) -> GraphQLError:
    return GraphQLError(
        message_for(ErrorCode.NODE_UNAVAILABLE, info.context.locale),
        path=info.path.as_list(),
        extensions=unavailable_extensions(failure),
    )


def unavailable_extensions(failure: NodeUnavailable) -> dict[str, object]:
    """What a NODE_UNAVAILABLE error says: the node and the prefixes it owns (and its
    level, for a node holding one)."""
    extensions: dict[str, object] = {"code": ErrorCode.NODE_UNAVAILABLE.value}
    if failure.level is not None:
        extensions["level"] = failure.level.value
    extensions["node"] = failure.node_id
    extensions["prefixes"] = list(failure.prefixes)
    return extensions


def report_unavailable(info: Info, failures: Iterable[NodeUnavailable]) -> None:
    info.context.partial_errors.extend(unavailable_error(info, f) for f in failures)


async def load_or_report(info: Info, loader: DataLoader[K, V], key: K, default: V) -> V:
    """Load a list relation; if its node is down, report it and give ``default``, so
    the rest of the object still arrives."""
    try:
        return await loader.load(key)
    except NodeUnavailable as failure:
        report_unavailable(info, [failure])
        return default
