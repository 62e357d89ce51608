"""A licence's lifecycle written at the node that issued it (DESIGN §2, "A node is a
service"): suspending, reinstating, revoking (``change_status``) and reissuing (换发,
signed with the issuing org's key this node keeps), by the rules of
``levels/licences/service.py`` in the node's own transaction, with the audit event and
the library's copy queued in its outbox.

Who may is the hub's check (the policy table over the licence it read through the
node's API); the node is told who acts, checks that it issued the licence (its master
row, at a level and division it keeps: DIVISION_NOT_OWNED otherwise) and records who
did. A licence whose validity has ended is first marked EXPIRED, as the timer worker
would have; a change that this makes impossible is refused and the expiry kept — the
outcome then carries both, as the hub's own path answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.cases.service import Actor
from levels.common.errors import DomainError, ErrorCode
from levels.licences import service
from levels.licences.errors import LicenceErrorCode
from levels.licences.expiry import change_after_expiry
from levels.licences.identifiers import parse_licence_id
from levels.licences.keys import OrgSigner
from levels.licences.models import ELicence
from levels.node.scope import NodeScope
from levels.node.windows import checked

# the changes a node makes to a licence it issued, by name, as the hub asks for them
STATUS_CHANGES = frozenset({"SUSPEND_LICENCE", "REINSTATE_LICENCE", "REVOKE_LICENCE"})
REISSUE = "REISSUE_LICENCE"


@dataclass(frozen=True)
class LicenceChange:
    """What the hub asks: ``action`` (one of ``STATUS_CHANGES`` or ``REISSUE``), its
    reason, and for a reissue the new fields and last day."""

    action: str
    reason: str | None = None
    fields: Mapping[str, str] | None = None
    valid_until: dt.date | None = None


@dataclass(frozen=True)
class LicenceOutcome:
    """The licence as it now stands (None: refused, nothing written) and the refusal;
    both when an expiry was kept and the change refused."""

    licence: ELicence | None
    error: DomainError | None = None


def _work(
    key: str, change: LicenceChange, signer: OrgSigner | None, actor: Actor, now: dt.datetime
) -> Callable[[AsyncSession], Awaitable[ELicence]]:
    if change.action in STATUS_CHANGES:

        async def status(session: AsyncSession) -> ELicence:
            return await service.change_status(
                session, key, change.action, change.reason, actor, now
            )

        return status
    if change.action != REISSUE:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["action"], detail=change.action[:50])
    if signer is None:
        raise DomainError(ErrorCode.DIVISION_NOT_OWNED, field=["id"], detail="issues none")
    kept = signer

    async def reissue(session: AsyncSession) -> ELicence:
        return await service.reissue(
            session,
            key,
            reason=change.reason,
            fields=dict(change.fields or {}),
            until=change.valid_until,
            signer=kept,
            who=actor,
            now=now,
        )

    return reissue


async def change_licence(
    sessions: async_sessionmaker[AsyncSession],
    scope: NodeScope,
    identifier: str,
    change: LicenceChange,
    *,
    signer: OrgSigner | None,
    actor: Actor,
    now: dt.datetime,
) -> LicenceOutcome:
    """One change of licence ``identifier``, which this node must have issued."""
    checked(now)
    key = parse_licence_id(identifier, field=("input", "id")).value
    work = _work(key, change, signer, actor, now)
    async with sessions() as session:
        master = await session.get(ELicence, key)
        if master is None:
            return LicenceOutcome(
                None, DomainError(LicenceErrorCode.LICENCE_NOT_FOUND, field=["input", "id"])
            )
        if not scope.keeps(master.issuer_division_code[:12], master.issuer_level):
            # the library's copy of another node's licence: not this node's to change
            raise DomainError(ErrorCode.DIVISION_NOT_OWNED, field=["id"], detail=key)
        try:
            row, refused = await change_after_expiry(session, key, now, work)
        except DomainError as e:
            return LicenceOutcome(None, e)
    return LicenceOutcome(row, refused)
