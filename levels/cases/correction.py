"""当场更正 (000 "申请材料存在可以当场更正的错误的，应当允许申请人当场更正，出具决定受理
通知书，进入受理阶段，受理时间从收件之日算起"): at the counter, the applicant corrects
or completes materials on the spot. No supplement notice, no suspension: the case is
accepted at once, and its clock counts from the day it was received."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from levels.cases import paperless
from levels.cases.enums import MaterialState
from levels.cases.errors import CaseErrorCode
from levels.cases.materials import MaterialDraft, check_reference
from levels.cases.models import CaseMaterial
from levels.common.errors import DomainError

# what the file must be once corrected: nothing missing or wrong (容缺 may follow)
COMPLETE_STATES = frozenset({MaterialState.PROVIDED, MaterialState.TOLERATED})


def correct_on_spot(
    rows: Mapping[str, CaseMaterial], drafts: Sequence[MaterialDraft]
) -> list[dict[str, Any]]:
    """Replace the materials corrected at the counter; the file must then be complete
    (what cannot be corrected on the spot goes on a supplement notice instead).
    Returns what was corrected, for the audit trail."""
    if not drafts:
        raise DomainError(CaseErrorCode.NOTHING_TO_SUPPLEMENT, field=["input", "materials"])
    corrected: list[dict[str, Any]] = []
    for i, m in enumerate(drafts):
        where = ["input", "materials", str(i)]
        row = rows.get(m.name)
        if row is None:
            raise DomainError(CaseErrorCode.MATERIAL_NOT_IN_GUIDE, field=[*where, "name"])
        check_reference(m, where)
        paperless.refuse_replacing(row, m.source, [*where, "source"])
        corrected.append({"name": m.name, "was": row.state.value, "source": m.source.value})
        row.source, row.reference, row.state, row.note = (
            m.source,
            m.reference,
            MaterialState.PROVIDED,
            None,
        )
    still = [r.name for r in rows.values() if r.state not in COMPLETE_STATES]
    if still:
        raise DomainError(
            CaseErrorCode.NOT_CORRECTED_ON_SPOT,
            field=["input", "materials"],
            detail="、".join(still),
        )
    return corrected
