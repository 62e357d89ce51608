"""No paper for what the library holds (004 "对于证照库中已有的电子证照，要100%应用，
不得再要求申请人提交纸质证照"): a material filled from the e-licence library is never
asked for again — not on a supplement notice (一次性告知), and not handed in on paper
in its place, at 补正 or at an on-spot correction."""

from __future__ import annotations

from collections.abc import Sequence

from levels.cases.enums import MaterialSource
from levels.cases.errors import CaseErrorCode
from levels.cases.models import CaseMaterial
from levels.common.errors import DomainError


def from_library(row: CaseMaterial) -> bool:
    """The material is an e-licence of the library (filled in, or named by the
    applicant and checked against the library at submission), or the applicant's
    verified identity standing for their identity card (``sharing.py``)."""
    return row.source in (MaterialSource.LICENCE, MaterialSource.IDENTITY)


def refuse_notice_of(row: CaseMaterial, where: Sequence[str]) -> None:
    """A supplement notice may not name a material the library holds."""
    if from_library(row):
        raise DomainError(CaseErrorCode.HELD_IN_LIBRARY, field=list(where), detail=row.name)


def refuse_replacing(row: CaseMaterial, source: MaterialSource, where: Sequence[str]) -> None:
    """What the library holds is not handed in again on paper (or as a file)."""
    if from_library(row) and source is not row.source:
        raise DomainError(CaseErrorCode.HELD_IN_LIBRARY, field=list(where), detail=row.name)
