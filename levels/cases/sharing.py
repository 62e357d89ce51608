"""The 居民身份证 from the signed-in person's verified identity (信息共享, 001 "能通过信息
共享获取的材料，一律不得要求申请人提供"): an applicant applying as a person has proven
who they are — their account holds their verified resident ID — so a material the
guide fills with a 居民身份证 (licence type SFZ) is taken from that identity at
submission and never asked for on paper. An enterprise has no identity card; a person
whose account holds no verified ID is asked as before."""

from __future__ import annotations

from collections.abc import Sequence

from levels.cases.enums import ApplicantKind, MaterialSource, MaterialState
from levels.cases.models import CaseMaterial
from levels.common.models import ImplementationMaterial

IDENTITY_TYPE = "SFZ"
IDENTITY_NOTE = "实名身份核验信息共享"
# a card of someone else than the applicant (父母居民身份证, 夫妻双方…, …家庭成员…): the
# applicant's own verified identity cannot stand for it, so it is asked for as before
OTHER_PEOPLE = ("父母", "夫妻", "配偶", "家庭成员", "子女", "监护人", "受托人", "代理人")


def is_own_card(material_name: str) -> bool:
    """Whether an identity-card material names the applicant's own card."""
    return not any(word in material_name for word in OTHER_PEOPLE)


def fill_identity_card(
    applicant_kind: ApplicantKind,
    id_masked: str,
    guide: Sequence[ImplementationMaterial],
    materials: Sequence[CaseMaterial],
) -> list[str]:
    """Fill the identity-card materials of a person's application from their verified
    identity; the names filled."""
    if applicant_kind is not ApplicantKind.PERSON or not id_masked:
        return []
    wanted = {
        g.name
        for g in guide
        if g.satisfied_by_licence_type == IDENTITY_TYPE and is_own_card(g.name)
    }
    filled: list[str] = []
    for m in materials:
        if m.name in wanted and m.source is not MaterialSource.LICENCE:
            m.source, m.reference, m.state = (
                MaterialSource.IDENTITY,
                id_masked,
                MaterialState.PROVIDED,
            )
            m.note = IDENTITY_NOTE
            filled.append(m.name)
    return filled
