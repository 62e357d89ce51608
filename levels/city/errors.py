"""Error codes of the catalogue's publication (``publishCatalogue``)."""

from __future__ import annotations

import enum


class CatalogueErrorCode(enum.Enum):
    OUTSIDE_PUBLICATION_MONTHS = "OUTSIDE_PUBLICATION_MONTHS"
    URGENT_REASON_REQUIRED = "URGENT_REASON_REQUIRED"
    REASON_TOO_LONG = "REASON_TOO_LONG"
    BATCH_ALREADY_PUBLISHED = "BATCH_ALREADY_PUBLISHED"
    PUBLICATION_CONFLICT = "PUBLICATION_CONFLICT"

    def messages(self) -> tuple[str, str]:
        return _MESSAGES[self]


_MESSAGES: dict[CatalogueErrorCode, tuple[str, str]] = {
    CatalogueErrorCode.OUTSIDE_PUBLICATION_MONTHS: (
        "清单于每年6月、12月集中公布；其他月份仅可作紧急调整，并须说明理由",
        "The lists are published in June and December; in another month only as an urgent "
        "adjustment, with a reason",
    ),
    CatalogueErrorCode.URGENT_REASON_REQUIRED: (
        "紧急调整须说明理由",
        "An urgent adjustment needs a reason",
    ),
    CatalogueErrorCode.REASON_TOO_LONG: (
        "理由过长（至多2000字）",
        "The reason is too long (2000 characters at most)",
    ),
    CatalogueErrorCode.BATCH_ALREADY_PUBLISHED: (
        "本批次清单已集中公布（每批次1次）；如需再调整，请作紧急调整并说明理由",
        "This batch has been published (once a batch); adjust it again as an urgent "
        "adjustment with a reason",
    ),
    CatalogueErrorCode.PUBLICATION_CONFLICT: (
        "清单正由他人同时公布，请刷新后重试",
        "Someone published the lists at the same time; refresh and try again",
    ),
}
