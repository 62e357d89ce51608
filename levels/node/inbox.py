"""A node's inbox over its API: a signed envelope handed to the node (``deliver``) is
verified, checked to be this node's, and applied in the node's own transaction by the
same path as the relay and the message workers (``levels.outbox.service.apply``: the
topic's handler and the inbox row together, so a second delivery changes nothing). The
node then signs a receipt for the sender, as a consumer of the message engine does.

Outcomes: APPLIED (now), DUPLICATE (the inbox had it), WAIT (its entity's previous
message is not here yet, or no handler for its topic in this process: send it again
later) and REFUSED (bad signature, a sender that does not own its source, a target
this node does not hold, or a handler's ``DomainError``: for good, audited here)."""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.audit.chain import EventDraft, append
from levels.common.codes import level_of_division, parse_division
from levels.common.enums import LEVELS, Level
from levels.common.errors import DomainError, message_for
from levels.node.scope import NodeScope
from levels.outbox import service as outbox
from levels.outbox import signing

log = logging.getLogger("govhub.node.inbox")

# the audit action of a refused message (as the message workers record it)
REFUSED_ACTION = "MESSAGE_REFUSED"


class Outcome(enum.Enum):
    APPLIED = "APPLIED"
    DUPLICATE = "DUPLICATE"
    WAIT = "WAIT"
    REFUSED = "REFUSED"


@dataclass(frozen=True)
class Received:
    """What became of a delivered envelope, and the receipt the node signed."""

    outcome: Outcome
    message_id: str | None
    reason: str | None = None
    receipt: str | None = None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        detail = f" ({exc.detail})" if exc.detail else ""
        return f"{exc.code.value}: {message_for(exc.code, 'en')}{detail}"
    return f"{type(exc).__name__}: {exc}"


@dataclass
class Inbox:
    """The inbox of one node: ``scope`` says what it owns, ``keys`` verify senders,
    ``signer`` signs its receipts (None: no receipts), ``sessions`` open its store."""

    scope: NodeScope
    keys: signing.NodeKeys
    sessions: async_sessionmaker[AsyncSession]
    signer: signing.NodeSigner | None = None

    async def deliver(self, token: str, now: dt.datetime) -> Received:
        outbox.load_handlers()
        try:
            claims = await self.keys.open(token)
            if claims.get("typ") != signing.MESSAGE:
                raise signing.Refused("a receipt is not delivered to an inbox", claims)
            self._check_target(claims)
        except signing.Refused as exc:
            return await self._refuse(token, exc.claims, exc.reason, now)
        envelope = signing.envelope_from(claims)
        try:
            async with self.sessions.begin() as session:
                applied = await outbox.apply(session, envelope, now)
        except DomainError as exc:
            return await self._refuse(token, claims, _describe(exc), now)
        except (outbox.OutOfOrder, outbox.UnknownTopic) as exc:
            return Received(Outcome.WAIT, envelope.id, str(exc))
        except IntegrityError:
            # another worker of this node applied it first (PostgreSQL)
            async with self.sessions() as session:
                if envelope.id not in await outbox.inbox_holds(session, [envelope.id]):
                    raise
            applied = False
        outcome = Outcome.APPLIED if applied else Outcome.DUPLICATE
        receipt = await self._receipt(claims, token, signing.APPLIED, None, now)
        return Received(outcome, envelope.id, None, receipt)

    def _check_target(self, claims: Mapping[str, Any]) -> None:
        """The message is for a level this node holds and, where its division names
        one at that level on its way up, a division this node owns."""
        try:
            target = Level(str(claims.get("dst")))
        except ValueError:
            raise signing.Refused(f"unknown target level {claims.get('dst')!r}", claims) from None
        if not self.scope.holds(target):
            raise signing.Refused(
                f"DIVISION_NOT_OWNED: node {self.scope.id!r} holds no {target.value} division",
                claims,
            )
        division = str(claims.get("div") or "")
        if level_of_division(division) is None:
            return
        at_target = [d for d in parse_division(division).chain if d.level is target]
        if at_target and not self.scope.owns(at_target[0]):
            raise signing.Refused(
                f"DIVISION_NOT_OWNED: {at_target[0].code} is not node {self.scope.id!r}'s",
                claims,
            )

    def _level(self, claims: Mapping[str, Any]) -> Level:
        """The level a refusal is recorded at: the message's target when this node
        holds it, else the first level it holds."""
        try:
            target = Level(str(claims.get("dst")))
        except ValueError:
            target = None
        if target is not None and self.scope.holds(target):
            return target
        return next((lv for lv in LEVELS if self.scope.holds(lv)), Level.CITY)

    async def _receipt(
        self,
        claims: Mapping[str, Any],
        token: str,
        outcome: str,
        reason: str | None,
        now: dt.datetime,
    ) -> str | None:
        if self.signer is None or not claims.get("mid"):
            return None
        async with self.sessions.begin() as session:
            return await self.signer.receipt(
                session,
                self.scope.id,
                claims=claims,
                received=token.encode(),
                outcome=outcome,
                now=now,
                reason=reason,
            )

    async def _refuse(
        self,
        token: str,
        claims: Mapping[str, Any] | None,
        reason: str,
        now: dt.datetime,
    ) -> Received:
        """Record why in this node's store and answer with a refusal receipt."""
        log.error("node %s refused a message: %s", self.scope.id, reason)
        claims = dict(claims or {})
        is_message = claims.get("typ") == signing.MESSAGE
        async with self.sessions.begin() as session:
            await append(
                EventDraft(
                    actor_id="inbox",
                    actor_kind="SYSTEM",
                    role=None,
                    channel="SYSTEM",
                    org_code=None,
                    level=self._level(claims).value,
                    action=REFUSED_ACTION,
                    case_number=claims.get("case") if is_message else None,
                    detail={
                        "message": claims.get("mid"),
                        "from": claims.get("iss"),
                        "sha256": signing.digest(token),
                        "error": reason[:2000],
                    },
                ),
                session=session,
                now=now,
            )
        receipt = None
        if is_message:
            receipt = await self._receipt(claims, token, signing.REFUSED, reason, now)
        mid = claims.get("mid")
        return Received(Outcome.REFUSED, str(mid) if mid else None, reason, receipt)
