"""The loaders of what is kept beside a case's row (materials, parts, supervision
cards, tolerance, special procedures, timeline events, notices, the licences its
approval issued), keyed by (level, case number): from a node's store by SQL, or — for
a node reached through its API — by ``caseRecords(of:, numbers:)``, one call per node
per batch, rows as every column (``resolvers/remote.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

from levels.audit.models import AuditEvent
from levels.cases.models import (
    CaseMaterial,
    CasePart,
    CaseSuspension,
    CaseTolerance,
    SupervisionCard,
)
from levels.common.enums import Level
from levels.licences.models import ELicence
from levels.node.records import KINDS, CaseRecordKind
from levels.notices.models import CaseNotice
from resolvers import remote
from resolvers.level_loader import OrgScopedLoader, R
from resolvers.nodeclient import NodeClient


class CaseRecordsLoader(OrgScopedLoader[R]):
    """Records of one ``kind``: the node's own read on a store (``levels/node/records``,
    the same the node serves), ``caseRecords`` through a node's API."""

    remote = True
    kind: ClassVar[CaseRecordKind]

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[R]:
        return await KINDS[self.kind].read(keys, session=session)

    async def fetch_remote(self, keys: list[str], *, client: NodeClient) -> Sequence[R]:
        found: Sequence[Any] = await remote.case_records(client, self.kind, keys)
        return found

    def answers(self, level: Level, row: Any) -> tuple[Level, str]:
        return (level, row.case_number)


def records_loader(
    kind: CaseRecordKind, _row: type[R], *, many: bool = True
) -> type[CaseRecordsLoader[R]]:
    """The loader of records of ``kind``, rows of ``_row`` (``many``: a list per case,
    else one record or none), for a kind whose rows answer (level, case number) as
    ``CaseRecordsLoader`` reads them."""
    name = f"{kind.value.title()}ByCaseLoader"
    made = type(name, (CaseRecordsLoader,), {"kind": kind, "many": many, "__module__": __name__})
    return cast(type[CaseRecordsLoader[R]], made)


MaterialsByCaseLoader = records_loader(CaseRecordKind.MATERIALS, CaseMaterial)
PartsByCaseLoader = records_loader(CaseRecordKind.PARTS, CasePart)
CardsByCaseLoader = records_loader(CaseRecordKind.CARDS, SupervisionCard)
ToleranceByCaseLoader = records_loader(CaseRecordKind.TOLERANCE, CaseTolerance, many=False)
ProceduresByCaseLoader = records_loader(CaseRecordKind.PROCEDURES, CaseSuspension)
# the notices of a case kept in one store (the org that issued them is there)
NoticesByCaseLoader = records_loader(CaseRecordKind.NOTICES, CaseNotice)


class EventsByCaseLoader(CaseRecordsLoader[AuditEvent]):
    many = True
    kind = CaseRecordKind.EVENTS

    def answers(self, level: Level, row: AuditEvent) -> tuple[Level, str]:
        # the level the event was recorded at (a node may hold several)
        return (Level(row.level), row.case_number or "")


class LicencesByCaseLoader(CaseRecordsLoader[ELicence]):
    """The licences a case's approval issued, from the store that decided it (the
    master rows: the city store also holds library copies, which answer nothing)."""

    many = True
    kind = CaseRecordKind.LICENCES

    def answers(self, level: Level, row: ELicence) -> tuple[Level, str]:
        return (level, row.source_case_number if row.issuer_level is level else "")
