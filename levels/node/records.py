"""What a node serves by a batch of keys beyond its entities, as every column of each
row: a case's records kept beside its row — materials, parts, supervision cards,
tolerance commitment, special procedures, timeline events, notices, the licences its
approval issued, its ratings — read for a batch of case numbers in one statement per kind, with the
same reads (and orders) as the hub's loaders use on a store. A node serves them as
``caseRecords(of:, numbers:)``; and the orgs of divisions, departments and windows by id
and those of orgs, a hall's tickets and appointments by public id, as
``orgRecords(of:, keys:)``."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.audit.models import AuditEvent
from levels.cases import procedures, tolerance
from levels.cases import reads as case_reads
from levels.cases.models import (
    CaseMaterial,
    CasePart,
    CaseSuspension,
    CaseTolerance,
    SupervisionCard,
)
from levels.common import reads
from levels.common import service as common_service
from levels.common.models import (
    Department,
    ImplementationMaterial,
    MatterImplementation,
    ServiceOrg,
    Window,
)
from levels.common.reads import table
from levels.evaluations import service as evaluation_service
from levels.evaluations.models import Complaint, Evaluation, Rectification
from levels.licences import reads as licence_reads
from levels.licences.models import ELicence, LicenceType, LicenceUse
from levels.notices import service as notice_service
from levels.notices.models import CaseNotice
from levels.proxy.models import ProxyAuthorization
from levels.windows.models import Appointment, QueueTicket


class CaseRecordKind(enum.Enum):
    MATERIALS = "MATERIALS"
    PARTS = "PARTS"
    CARDS = "CARDS"
    TOLERANCE = "TOLERANCE"
    PROCEDURES = "PROCEDURES"
    EVENTS = "EVENTS"
    NOTICES = "NOTICES"
    LICENCES = "LICENCES"
    RATINGS = "RATINGS"


Read = Callable[..., Awaitable[Sequence[Any]]]


@dataclass(frozen=True)
class RecordKind:
    """Where one kind of record is kept, how a batch is read, and which column names
    its case."""

    model: type[Any]
    read: Read
    case_column: str = "case_number"

    @property
    def table(self) -> Table:
        return table(self.model)

    def case_of(self, row: Any) -> str:
        return str(getattr(row, self.case_column) or "")


KINDS: dict[CaseRecordKind, RecordKind] = {
    CaseRecordKind.MATERIALS: RecordKind(CaseMaterial, case_reads.materials_by_case),
    CaseRecordKind.PARTS: RecordKind(CasePart, case_reads.parts_by_case),
    CaseRecordKind.CARDS: RecordKind(SupervisionCard, case_reads.cards_by_case),
    CaseRecordKind.TOLERANCE: RecordKind(CaseTolerance, tolerance.commitments_by_case),
    CaseRecordKind.PROCEDURES: RecordKind(CaseSuspension, procedures.procedures_by_case),
    # the steps of its timeline (the audited reads of staff are not part of it)
    CaseRecordKind.EVENTS: RecordKind(AuditEvent, case_reads.events_by_case),
    CaseRecordKind.NOTICES: RecordKind(CaseNotice, notice_service.notices_by_case),
    # every licence row here whose approval was this case's (the hub keeps the
    # issuer's own: the city's library copies answer nothing there)
    CaseRecordKind.LICENCES: RecordKind(
        ELicence, licence_reads.licences_by_case, "source_case_number"
    ),
    # 好差评 of the case, oldest first
    CaseRecordKind.RATINGS: RecordKind(Evaluation, evaluation_service.evaluations_by_case),
}


async def case_records(
    kind: CaseRecordKind, numbers: Sequence[str], *, session: AsyncSession
) -> Sequence[Any]:
    """The rows of ``kind`` of these cases in this store, in one statement."""
    return await KINDS[kind].read(list(numbers), session=session)


class OrgRecordKind(enum.Enum):
    ORGS_OF_DIVISION = "ORGS_OF_DIVISION"
    DEPARTMENTS = "DEPARTMENTS"
    DEPARTMENTS_OF_ORG = "DEPARTMENTS_OF_ORG"
    WINDOWS = "WINDOWS"
    WINDOWS_OF_ORG = "WINDOWS_OF_ORG"
    TICKETS = "TICKETS"
    APPOINTMENTS = "APPOINTMENTS"
    IMPLEMENTATIONS_OF_DIVISION = "IMPLEMENTATIONS_OF_DIVISION"
    IMPLEMENTATIONS_OF_MATTER = "IMPLEMENTATIONS_OF_MATTER"
    MATERIALS_OF_IMPLEMENTATION = "MATERIALS_OF_IMPLEMENTATION"
    EVALUATIONS = "EVALUATIONS"
    RECTIFICATIONS = "RECTIFICATIONS"
    COMPLAINTS = "COMPLAINTS"
    RECTIFICATIONS_OF_EVALUATION = "RECTIFICATIONS_OF_EVALUATION"
    LICENCES = "LICENCES"
    LICENCE_USES = "LICENCE_USES"
    LICENCE_TYPES = "LICENCE_TYPES"
    PROXY_AUTHORIZATIONS = "PROXY_AUTHORIZATIONS"


@dataclass(frozen=True)
class OrgKind:
    """How a batch of one kind is read, and the division a key names (a node answers
    only for its own; None: the key names none — a credit code)."""

    model: type[Any]
    read: Read
    division: bool
    # the key's division is where a case was received: the node holds the row when it
    # owns that division or one above it (a case is held on its way up)
    upward: bool = False

    @property
    def table(self) -> Table:
        return table(self.model)


def _by_public_id(model: type[Any]) -> Read:
    async def read(keys: Sequence[str], *, session: AsyncSession) -> Sequence[Any]:
        return list(await session.scalars(select(model).where(model.public_id.in_(keys))))

    return read


def _by_id(model: type[Any]) -> Read:
    async def read(keys: Sequence[str], *, session: AsyncSession) -> Sequence[Any]:
        return list(await session.scalars(select(model).where(model.id.in_(keys))))

    return read


async def _rectifications_of(keys: Sequence[str], *, session: AsyncSession) -> Sequence[Any]:
    ids = [int(k) for k in keys if k.isdigit()]
    return await evaluation_service.rectifications_by_evaluation(ids, session=session)


ORG_KINDS: dict[OrgRecordKind, OrgKind] = {
    # keyed by division code
    OrgRecordKind.ORGS_OF_DIVISION: OrgKind(ServiceOrg, reads.orgs_by_division, True),
    # keyed by department id (division code + "D" + two digits)
    OrgRecordKind.DEPARTMENTS: OrgKind(Department, common_service.departments_by_id, True),
    # keyed by the org's credit code
    OrgRecordKind.DEPARTMENTS_OF_ORG: OrgKind(Department, common_service.departments_by_org, False),
    # keyed by window id (division code + "W" + two digits); the hub asks every node
    # holding the window's level, and one that does not hold it answers nothing
    OrgRecordKind.WINDOWS: OrgKind(Window, common_service.windows_by_id, False),
    # keyed by the org's credit code
    OrgRecordKind.WINDOWS_OF_ORG: OrgKind(Window, common_service.windows_by_org, False),
    # keyed by public id (division code + "-" + hex): a hall's queue tickets
    OrgRecordKind.TICKETS: OrgKind(QueueTicket, _by_public_id(QueueTicket), True),
    # keyed by public id: appointments booked at a hall's windows
    OrgRecordKind.APPOINTMENTS: OrgKind(Appointment, _by_public_id(Appointment), True),
    # the catalogue kept by the orgs: the published items of divisions' orgs (by
    # division code, by basic code), every item of catalogue matters (by basic code),
    # the materials of items (by implementation code)
    OrgRecordKind.IMPLEMENTATIONS_OF_DIVISION: OrgKind(
        MatterImplementation, reads.implementations_by_division, True
    ),
    OrgRecordKind.IMPLEMENTATIONS_OF_MATTER: OrgKind(
        MatterImplementation, reads.implementations_by_basic_code, False
    ),
    OrgRecordKind.MATERIALS_OF_IMPLEMENTATION: OrgKind(
        ImplementationMaterial, reads.materials_by_implementation, False
    ),
    # keyed by public id (it leads with the division the case was received at):
    # ratings, rectifications and complaints (``node(id:)``)
    OrgRecordKind.EVALUATIONS: OrgKind(Evaluation, _by_public_id(Evaluation), True, True),
    OrgRecordKind.RECTIFICATIONS: OrgKind(Rectification, _by_public_id(Rectification), True, True),
    OrgRecordKind.COMPLAINTS: OrgKind(Complaint, _by_public_id(Complaint), True, True),
    # keyed by the rating's id in this store (a number, as text): its rectification
    OrgRecordKind.RECTIFICATIONS_OF_EVALUATION: OrgKind(Rectification, _rectifications_of, False),
    # the licence library and the licences' master rows, by identifier; their uses
    # (by licence identifier), the licence types (by code)
    OrgRecordKind.LICENCES: OrgKind(ELicence, licence_reads.licences_by_id, False),
    OrgRecordKind.LICENCE_USES: OrgKind(LicenceUse, licence_reads.uses_by_licence, False),
    OrgRecordKind.LICENCE_TYPES: OrgKind(LicenceType, licence_reads.types_by_code, False),
    # keyed by id (uuid hex): a village's 代办 authorizations, whose resident the hub
    # reads licences for before the station's receipt
    OrgRecordKind.PROXY_AUTHORIZATIONS: OrgKind(
        ProxyAuthorization, _by_id(ProxyAuthorization), False
    ),
}


async def org_records(
    kind: OrgRecordKind, keys: Sequence[str], *, session: AsyncSession
) -> Sequence[Any]:
    """The rows of ``kind`` for these keys in this store, in one statement."""
    return await ORG_KINDS[kind].read(list(keys), session=session)
