"""A material as the input gives it (``MaterialDraft``), and the check every step that
takes materials makes of it: submission, 补正, and an on-spot correction."""

from __future__ import annotations

from dataclasses import dataclass

from levels.cases.enums import MaterialSource
from levels.cases.errors import CaseErrorCode
from levels.common.errors import DomainError


@dataclass(frozen=True)
class MaterialDraft:
    name: str
    source: MaterialSource
    reference: str | None = None


def check_reference(m: MaterialDraft, where: list[str]) -> None:
    """A file or e-licence needs its reference (paper does not), within its column;
    the verified identity is the system's to fill, never the input's."""
    if m.source is MaterialSource.IDENTITY:
        raise DomainError(CaseErrorCode.IDENTITY_IS_SHARED, field=[*where, "source"])
    if m.source is not MaterialSource.PAPER and not (m.reference or "").strip():
        raise DomainError(CaseErrorCode.MATERIAL_REFERENCE_REQUIRED, field=[*where, "reference"])
    if len(m.reference or "") > 256:
        raise DomainError(CaseErrorCode.TEXT_TOO_LONG, field=[*where, "reference"])
