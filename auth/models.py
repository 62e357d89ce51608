"""Tables of the identity store (its own database, the fifth store).

The store is created and migrated like the level stores from the first day; its tables
(accounts, sessions, keys) arrive with the identity work."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class IdentityBase(DeclarativeBase):
    pass


metadata = IdentityBase.metadata
