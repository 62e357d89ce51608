"""The notices of a case, each in the store of the org that issued it (a case referred
up has notices at every level it passed through)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Enum, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from levels.common.models import LevelBase
from levels.notices.enums import NoticeKind


class CaseNotice(LevelBase):
    __tablename__ = "case_notices"
    __table_args__ = (UniqueConstraint("case_number", "seq"),)

    # <case number>-<LEVEL>-<seq>: names the case, and the store that holds the notice
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_number: Mapped[str] = mapped_column(String(32), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[NoticeKind] = mapped_column(
        Enum(NoticeKind, native_enum=False, length=32, validate_strings=True)
    )
    org_code: Mapped[str] = mapped_column(String(18))
    issued_at: Mapped[dt.datetime]
    # what the document says, fixed at issue: the PDF is rendered from it
    content: Mapped[dict[str, Any]]
    # the issuing org's signature over the content (notice+jwt); None until sealed —
    # a notice written by a timer or a received referral is sealed when first served
    kid: Mapped[str | None] = mapped_column(String(64))
    token: Mapped[str | None] = mapped_column(Text)
