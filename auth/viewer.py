"""Who is asking: the identity a request carries, decoded once from its token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auth.enums import AccountKind, Channel, Role, Scope
from levels.common.enums import Level


@dataclass(frozen=True, slots=True)
class Viewer:
    kind: AccountKind | None  # None: anonymous
    subject: str = ""  # account id, or the machine client's id
    session_id: str | None = None
    channel: Channel | None = None
    roles: frozenset[Role] = field(default_factory=frozenset)
    # the division the viewer answers for (staff: the org's; agent: the village;
    # auditor and service client: the jurisdiction); None for residents and firms
    jurisdiction: str | None = None
    org_code: str | None = None
    org_level: Level | None = None
    department_id: str | None = None
    scopes: frozenset[Scope] = field(default_factory=frozenset)
    credit_code: str | None = None  # an enterprise's own code

    @property
    def authenticated(self) -> bool:
        return self.kind is not None

    def claims(self) -> dict[str, Any]:
        """The identity part of an access token (RFC 9068 names where there are)."""
        claims: dict[str, Any] = {
            "sub": self.subject,
            "kind": self.kind.value if self.kind else None,
            "chn": self.channel.value if self.channel else None,
            "roles": sorted(r.value for r in self.roles),
            "jurisdiction": self.jurisdiction,
        }
        if self.session_id:
            claims["sid"] = self.session_id
        if self.org_code:
            claims["org"] = self.org_code
            claims["org_level"] = self.org_level.value if self.org_level else None
        if self.department_id:
            claims["dep"] = self.department_id
        if self.scopes:
            claims["scope"] = " ".join(sorted(s.value for s in self.scopes))
        if self.credit_code:
            claims["uscc"] = self.credit_code
        return claims

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Viewer:
        org_level = claims.get("org_level")
        return cls(
            kind=AccountKind(claims["kind"]),
            subject=str(claims["sub"]),
            session_id=claims.get("sid"),
            channel=Channel(claims["chn"]),
            roles=frozenset(Role(r) for r in claims.get("roles") or ()),
            jurisdiction=claims.get("jurisdiction"),
            org_code=claims.get("org"),
            org_level=Level(org_level) if org_level else None,
            department_id=claims.get("dep"),
            scopes=frozenset(Scope(s) for s in str(claims.get("scope") or "").split()),
            credit_code=claims.get("uscc"),
        )


ANONYMOUS = Viewer(kind=None)
