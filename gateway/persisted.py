"""Persisted queries: a client sends a document's SHA-256 instead of its text.

* Trusted documents: the manifest the front-ends ship (``GOVHUB_PERSISTED_MANIFEST``,
  JSON ``{"<sha256 hex>": "<document>"}``; the demo's is
  ``gateway/trusted_documents.json``, written by ``python -m gateway.persisted`` from the
  documentation's examples, ``docs/examples/*.graphql``). Every hash is checked against
  its document when the hub starts.
* Automatic persisted queries (APQ, Apollo's protocol): ``extensions.persistedQuery =
  {"version": 1, "sha256Hash": h}``. A hash the hub does not know is answered with
  PERSISTED_QUERY_NOT_FOUND; the client sends it again with the ``query``, whose hash
  is checked (PERSISTED_QUERY_HASH_MISMATCH) and which is kept for
  ``GOVHUB_APQ_TTL_SECONDS`` (in Redis when configured, shared by every replica;
  otherwise in a bounded in-process LRU). A GET with only the hash runs a query.
* ``GOVHUB_PERSISTED_ONLY``: the hub runs only documents of the manifest (sent by hash
  or in full) and refuses the rest with PERSISTED_QUERY_REQUIRED, APQ registrations
  included unless ``GOVHUB_PERSISTED_ONLY_ALLOWS_APQ``.

The view calls ``resolve`` at its ``resolve_document`` step, before GraphQL parses
anything."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any, Protocol

import orjson
from cachetools import TTLCache
from starlette.requests import Request
from starlette.responses import Response
from strawberry.http import GraphQLRequestData

from auth.kv import KeyValue
from gateway.http import JSON, TransportError
from gateway.settings import Settings

log = logging.getLogger("govhub.persisted")

MESSAGES: dict[str, tuple[str, str]] = {
    "PERSISTED_QUERY_NOT_FOUND": (
        "PersistedQueryNotFound：未知的查询哈希，请连同查询文本重发",
        "PersistedQueryNotFound: unknown query hash; send it again with the query",
    ),
    "PERSISTED_QUERY_HASH_MISMATCH": (
        "查询文本与 sha256Hash 不符",
        "the query does not match its sha256Hash",
    ),
    "PERSISTED_QUERY_NOT_SUPPORTED": (
        "不支持此版本的 persistedQuery（仅 version 1）",
        "this persistedQuery version is not supported (version 1 only)",
    ),
    "PERSISTED_QUERY_REQUIRED": (
        "本服务只执行已登记的查询（persisted query）",
        "this hub runs registered (persisted) operations only",
    ),
}
LRU_SIZE = 10_000


def sha256_of(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def load_manifest(path: Path | None) -> dict[str, str]:
    """``{hash: document}`` of a trusted-documents manifest; every hash checked."""
    if path is None or not path.exists():
        return {}
    data = orjson.loads(path.read_bytes())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a persisted-query manifest is a JSON object")
    for digest, query in data.items():
        if not isinstance(query, str) or sha256_of(query) != digest.lower():
            raise ValueError(f"{path}: {digest} is not the SHA-256 of its document")
    return {digest.lower(): query for digest, query in data.items()}


class Store(Protocol):
    async def set(self, key: str, value: str, ttl_seconds: int) -> None: ...

    async def get(self, key: str) -> str | None: ...


class MemoryStore:
    """One process's APQ store: least recently used entries go first."""

    def __init__(self, ttl_seconds: int) -> None:
        self._cache: TTLCache[str, str] = TTLCache(maxsize=LRU_SIZE, ttl=ttl_seconds)

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self._cache[key] = value

    async def get(self, key: str) -> str | None:
        return self._cache.get(key)


class PersistedQueryError(TransportError):
    """A GraphQL error body: 200 under application/json (what Apollo's link expects
    for PERSISTED_QUERY_NOT_FOUND), 400 under graphql-response+json."""

    def __init__(self, code: str, request: Request) -> None:
        json = getattr(request.state, "graphql_media_type", JSON) == JSON
        super().__init__(200 if json else 400, code)

    def response(self, request_headers: Any, media_type: str) -> Response:
        zh, en = MESSAGES[self.code]
        first = request_headers.get("accept-language", "").split(",")[0].strip().lower()
        text = en if first.startswith("en") else zh
        body = {"errors": [{"message": text, "extensions": {"code": self.code}}]}
        return Response(orjson.dumps(body), status_code=self.status_code, media_type=media_type)


class PersistedQueries:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.manifest = load_manifest(settings.persisted_manifest)
        self.store = store
        self.ttl = settings.apq_ttl_seconds
        self.only = settings.persisted_only
        self.allows_apq = not settings.persisted_only or settings.persisted_only_allows_apq

    @classmethod
    def for_settings(cls, settings: Settings, kv: KeyValue) -> PersistedQueries:
        """Redis (``kv``, shared by the replicas) when configured, else in-process."""
        if settings.redis_url:
            return cls(settings, kv)
        return cls(settings, MemoryStore(settings.apq_ttl_seconds))

    def admits(self, query: str | None) -> bool:
        """Whether a document sent as text may run: any, unless only the manifest's may."""
        return not self.only or bool(query and sha256_of(query) in self.manifest)

    def message(self, code: str, locale: str) -> str:
        zh, en = MESSAGES[code]
        return en if locale == "en" else zh

    async def resolve(self, request: Request, data: GraphQLRequestData) -> GraphQLRequestData:
        persisted = (data.extensions or {}).get("persistedQuery")
        if persisted is None:
            if not self.admits(data.query):
                raise PersistedQueryError("PERSISTED_QUERY_REQUIRED", request)
            return data
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise PersistedQueryError("PERSISTED_QUERY_NOT_SUPPORTED", request)
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str):
            raise PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", request)
        digest = digest.lower()
        if data.query:
            if sha256_of(data.query) != digest:
                raise PersistedQueryError("PERSISTED_QUERY_HASH_MISMATCH", request)
            if digest not in self.manifest:
                if not self.allows_apq:
                    raise PersistedQueryError("PERSISTED_QUERY_REQUIRED", request)
                await self.store.set("apq:" + digest, data.query, self.ttl)
            return data
        query = self.manifest.get(digest)
        if query is None and self.allows_apq:
            query = await self.store.get("apq:" + digest)
        if query is None:
            raise PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", request)
        return GraphQLRequestData(
            query=query,
            variables=data.variables,
            operation_name=data.operation_name,
            extensions=data.extensions,
            protocol=data.protocol,
        )


def example_documents(directory: Path) -> dict[str, str]:
    """The demo front-end's trusted documents: every example of the documentation
    (``docs/examples/*.graphql``, without its ``# as:`` line), as the app sends it."""
    documents = {}
    for path in sorted(directory.glob("*.graphql")):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        if lines and re.match(r"#\s*as:", lines[0]):
            lines = lines[1:]
        document = "".join(lines).strip() + "\n"
        documents[sha256_of(document)] = document
    return documents


if __name__ == "__main__":
    # python -m gateway.persisted: rewrite the demo manifest from the docs' examples
    root = Path(__file__).resolve().parents[1]
    documents = example_documents(root / "docs" / "examples")
    (root / "gateway" / "trusted_documents.json").write_text(
        json.dumps(documents, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
