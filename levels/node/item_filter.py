"""The conditions of the list of implementation items (``matterImplementations``): one
rule, as SQL (``levels.common.service.implementation_query``), for the hub's list over
a store and for a node's list (``itemsWhere``), where the hub sends them as JSON
(``encode``/``decode``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from levels.common import service as common_service
from levels.common.enums import HandlingKind, MatterStatus, OnlineLevel
from levels.node.conditions import decoding, text_or_none

_ENUMS: dict[str, Any] = {
    "handling_kind": HandlingKind,
    "online_level": OnlineLevel,
    "status": MatterStatus,
}


@dataclass(frozen=True)
class ItemConditions:
    """What the list keeps: ``within_prefix`` the items of orgs under a division
    (its prefix); ``drafts_within`` the viewer's reach over drafts ("" every draft,
    None none)."""

    basic_codes: tuple[str, ...] | None = None
    within_prefix: str | None = None
    org_code: str | None = None
    handling_kind: HandlingKind | None = None
    online_level: OnlineLevel | None = None
    max_visits: int | None = None
    delegated_only: bool = False
    status: MatterStatus | None = None
    drafts_within: str | None = ""

    def query(self) -> Select[Any]:
        return common_service.implementation_query(
            basic_codes=self.basic_codes,
            within_prefix=self.within_prefix,
            org_code=self.org_code,
            handling_kind=self.handling_kind,
            online_level=self.online_level,
            max_visits=self.max_visits,
            delegated_only=self.delegated_only,
            status=self.status,
            drafts_within=self.drafts_within,
        )

    def encode(self) -> dict[str, Any]:
        return {
            "basic_codes": None if self.basic_codes is None else list(self.basic_codes),
            "within_prefix": self.within_prefix,
            "org_code": self.org_code,
            "handling_kind": None if self.handling_kind is None else self.handling_kind.name,
            "online_level": None if self.online_level is None else self.online_level.name,
            "max_visits": self.max_visits,
            "delegated_only": self.delegated_only,
            "status": None if self.status is None else self.status.name,
            "drafts_within": self.drafts_within,
        }

    @classmethod
    def decode(cls, given: Any) -> ItemConditions:
        """``encode``'s JSON back; BAD_USER_INPUT for anything else."""
        with decoding("an item filter"):
            if not isinstance(given, dict) or set(given) != set(cls().encode()):
                raise ValueError("not the conditions of an item list")
            values = dict(given)
            for name, enum in _ENUMS.items():
                if values[name] is not None:
                    values[name] = enum[values[name]]
            codes = values["basic_codes"]
            if codes is not None:
                if not all(isinstance(c, str) for c in codes):
                    raise ValueError("basic_codes")
                values["basic_codes"] = tuple(codes)
            for name in ("within_prefix", "org_code", "drafts_within"):
                text_or_none(values[name], name)
            if values["max_visits"] is not None and type(values["max_visits"]) is not int:
                raise ValueError("max_visits")
            if not isinstance(values["delegated_only"], bool):
                raise ValueError("delegated_only")
            return cls(**values)
