"""Signed envelopes and receipts of cross-level messages (DESIGN §2, X-Road style).

A message travels as a JWS (ES256) signed with the sending node's key; its receiver
verifies it against the nodes' public keys, refuses a bad signature, a sender that does
not own the source, or a target it does not own, and — applied or refused — answers
with a receipt it signs itself: the message id, the SHA-256 of the envelope as received,
the time and the outcome. The sender keeps the receipt with its outbox row.

A node's key is a row of ``licence_keys`` in its own store whose org code is
``node:<node name>`` (the same key handling as the issuing orgs': private key encrypted
with the hub's secret, made on first use, retired keys still verifying)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.enums import Level
from levels.common.nodemap import NodeMap
from levels.licences.keys import ALGORITHM, OrgSigner, PublicKey, keys_of
from levels.licences.models import LicenceKey
from levels.outbox.models import OutboxMessage
from levels.outbox.ownership import NotOwned, owner
from levels.outbox.registry import Envelope

MESSAGE = "msg"
RECEIPT = "rcpt"
APPLIED = "applied"
REFUSED = "refused"
NODE_KEY_PREFIX = "node:"


def node_org(node: str) -> str:
    """The org code a node's keys are kept under."""
    return f"{NODE_KEY_PREFIX}{node}"


def digest(token: str | bytes) -> str:
    """SHA-256 (hex) of an envelope as sent or received."""
    data = token.encode() if isinstance(token, str) else token
    return hashlib.sha256(data).hexdigest()


class SourceDown(Exception):
    """A source of node keys (the hub's JWKS) did not answer: keep the keys known."""


class KeysAway(Exception):
    """A message names a key not known here while a source of keys does not answer:
    it waits (the key may be one the source would list), it is not refused."""

    def __init__(self, reason: str, claims: Mapping[str, Any]) -> None:
        self.claims = dict(claims)
        super().__init__(reason)


class Refused(Exception):
    """A message or receipt that does not verify: why, for the incident."""

    def __init__(self, reason: str, claims: Mapping[str, Any] | None = None) -> None:
        self.reason = reason
        # what the token claims, unverified (for whom to tell): None if unreadable
        self.claims = dict(claims) if claims is not None else None
        super().__init__(reason)


class NodeSigner:
    """A node's signing half: its current key, found (or made) in its own store."""

    def __init__(self, secret: bytes, *, key_ttl: float = 60.0) -> None:
        self._orgs = OrgSigner(secret)
        self._ttl = key_ttl
        # node → (kid, key, until): its current key, found committed in its store
        self._current: dict[str, tuple[str, ec.EllipticCurvePrivateKey, float]] = {}

    async def _key(
        self, session: AsyncSession, node: str, now: dt.datetime
    ) -> tuple[str, ec.EllipticCurvePrivateKey]:
        """The node's current key, remembered for ``key_ttl`` seconds (a rotation is
        seen after that; the retired key keeps verifying meanwhile). A key made in this
        transaction is not remembered until it is found again, committed."""
        known = self._current.get(node)
        if known is not None and known[2] > time.monotonic():
            return known[0], known[1]
        org = node_org(node)
        existing = await session.scalar(
            select(LicenceKey.kid)
            .where(LicenceKey.org_code == org, LicenceKey.retired_at.is_(None))
            .order_by(LicenceKey.created_at.desc(), LicenceKey.kid)
            .limit(1)
        )
        kid, key = await self._orgs.signing_key(session, org, now)
        if existing == kid:
            self._current[node] = (kid, key, time.monotonic() + self._ttl)
        return kid, key

    async def current_key(
        self, session: AsyncSession, node: str, now: dt.datetime
    ) -> tuple[str, ec.EllipticCurvePrivateKey]:
        """The node's current key and its kid (made in ``session`` on first use): what
        its envelopes, receipts and audit heads are signed with."""
        return await self._key(session, node, now)

    async def sign(
        self, session: AsyncSession, node: str, claims: dict[str, Any], now: dt.datetime
    ) -> str:
        kid, key = await self._key(session, node, now)
        return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})

    async def envelope(
        self, session: AsyncSession, node: str, message: OutboxMessage, now: dt.datetime
    ) -> str:
        """The signed envelope of an outbox message, sent by ``node``."""
        claims = {
            "typ": MESSAGE,
            "iss": node,
            "mid": message.id,
            "topic": message.topic,
            "src": message.source_level.value,
            "dst": message.target_level.value,
            "case": message.case_number,
            "div": message.division_code,
            "entity": message.entity,
            "seq": message.entity_seq,
            "payload": message.payload,
            "sent": now.isoformat(),
        }
        return await self.sign(session, node, claims, now)

    async def receipt(
        self,
        session: AsyncSession,
        node: str,
        *,
        claims: Mapping[str, Any],
        received: bytes,
        outcome: str,
        now: dt.datetime,
        reason: str | None = None,
    ) -> str:
        """The receipt ``node`` gives for a message it received (``claims`` as read)."""
        body = {
            "typ": RECEIPT,
            "iss": node,
            "to": claims.get("iss"),
            "mid": claims.get("mid"),
            "sha256": digest(received),
            "at": now.isoformat(),
            "outcome": outcome,
            "reason": reason,
        }
        return await self.sign(session, node, body, now)


def envelope_from(claims: Mapping[str, Any]) -> Envelope:
    """The message a verified envelope carries, as its handler sees it."""
    return Envelope(
        id=str(claims["mid"]),
        topic=str(claims["topic"]),
        source_level=Level(claims["src"]),
        target_level=Level(claims["dst"]),
        case_number=claims.get("case"),
        payload=dict(claims.get("payload") or {}),
        entity=claims.get("entity"),
        entity_seq=claims.get("seq"),
    )


# reads public keys of nodes: one node's ``node:<name>`` rows from its store, or the
# hub's JWKS of nodes (``/.well-known/node-keys.json``)
NodeKeySource = Callable[[], Awaitable[list[PublicKey]]]


def node_key_source(sessions: Callable[[], Any], node: str) -> NodeKeySource:
    async def read() -> list[PublicKey]:
        async with sessions() as session:
            rows = await session.scalars(
                select(LicenceKey).where(LicenceKey.org_code == node_org(node))
            )
            return list(keys_of(rows).values())

    return read


def node_jwk(key: PublicKey) -> dict[str, Any]:
    """A node's public key as a JWKS entry: the JWK, its ``kid`` and the ``node``."""
    node = key.org_code.removeprefix(NODE_KEY_PREFIX)
    return key.jwk | {"kid": key.kid, "alg": ALGORITHM, "use": "sig", "node": node}


def keys_from_jwks(document: Mapping[str, Any]) -> list[PublicKey]:
    """The node keys a JWKS of nodes lists (entries without a ``node`` are skipped)."""
    found: list[PublicKey] = []
    for entry in document.get("keys") or []:
        if not isinstance(entry, Mapping) or not entry.get("node") or not entry.get("kid"):
            continue
        jwk = {k: v for k, v in entry.items() if k not in ("kid", "alg", "use", "node")}
        public = ECAlgorithm.from_jwk(dict(jwk))
        if not isinstance(public, ec.EllipticCurvePublicKey):
            continue
        found.append(PublicKey(str(entry["kid"]), node_org(str(entry["node"])), public, jwk))
    return found


class NodeKeys:
    """The verifying half: every node's public keys, and the node map that says which
    node owns which divisions. A ``kid`` not seen yet makes it read the keys again (a
    node's first key, a rotation)."""

    def __init__(self, sources: Mapping[str, NodeKeySource], nodemap: NodeMap) -> None:
        self._sources = dict(sources)
        self.nodemap = nodemap
        self._keys: dict[str, PublicKey] = {}
        # why the sources that did not answer at the last reading did not
        self.away: dict[str, str] = {}

    async def reload(self) -> None:
        """Read every node's keys again; a store that does not answer keeps the keys
        read from it before (a message signed by that node waits until it is back)."""
        found: dict[str, PublicKey] = dict(self._keys)
        away: dict[str, str] = {}
        # asked side by side: a node that does not answer costs one timeout, not one each
        names = list(self._sources)
        results = await asyncio.gather(
            *(self._sources[name]() for name in names), return_exceptions=True
        )
        for name, result in zip(names, results, strict=True):
            if isinstance(result, (OSError, DBAPIError, TimeoutError, SourceDown)):
                away[name] = repr(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                found.update({k.kid: k for k in result})
        self._keys, self.away = found, away

    async def lookup(self, kid: str) -> PublicKey | None:
        if kid not in self._keys:
            await self.reload()
        return self._keys.get(kid)

    def jwks(self) -> dict[str, Any]:
        """The JWKS of nodes: every node key read so far, with its node."""
        return {"keys": [node_jwk(k) for k in sorted(self._keys.values(), key=lambda k: k.kid)]}

    def owner(self, code: str | None, level: Level | str | None) -> str:
        """The node owning ``code``'s division at ``level`` (raises ``NotOwned``)."""
        return owner(self.nodemap, code, level)

    def check_target(self, claims: Mapping[str, Any], node: str) -> None:
        """Refuse a message addressed to a division ``node`` does not own."""
        try:
            target = self.owner(claims.get("div"), claims.get("dst"))
        except NotOwned as exc:
            raise Refused(f"no target: {exc}", claims) from exc
        if target != node:
            raise Refused(
                f"target division {claims.get('div')} at {claims.get('dst')} is node "
                f"{target!r}'s, not {node!r}'s",
                claims,
            )

    async def open(self, token: bytes | str) -> dict[str, Any]:
        """The claims of a message or receipt, verified: signed by a key of the node it
        names as ``iss``, which owns the source level of a message. Raises ``Refused``."""
        try:
            header = jwt.get_unverified_header(token)
            claimed = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise Refused(f"not a JWS: {exc}") from exc
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise Refused(f"not signed with {ALGORITHM} and a kid", claimed)
        key = await self.lookup(kid)
        if key is None and self.away:
            away = "; ".join(f"{n}: {why}" for n, why in sorted(self.away.items()))
            raise KeysAway(f"key {kid!r} not known yet, keys not read from {away}", claimed)
        if key is None:
            raise Refused(f"unknown key {kid!r}", claimed)
        try:
            claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=[ALGORITHM])
        except jwt.PyJWTError as exc:
            raise Refused(f"bad signature: {exc}", claimed) from exc
        sender = claims.get("iss")
        if key.org_code != node_org(str(sender)):
            raise Refused(f"key {kid} is not node {sender!r}'s", claimed)
        if claims.get("typ") == MESSAGE:
            try:
                source = self.owner(claims.get("div"), claims.get("src"))
            except NotOwned as exc:
                raise Refused(f"no source: {exc}", claimed) from exc
            if source != sender:
                raise Refused(
                    f"node {sender!r} does not own the source division {claims.get('div')} "
                    f"at {claims.get('src')} (node {source!r} does)",
                    claimed,
                )
        elif claims.get("typ") != RECEIPT:
            raise Refused(f"unknown kind {claims.get('typ')!r}", claimed)
        return claims
