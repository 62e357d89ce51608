"""Fixtures of the schema's tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from schema.execution import ReadyLeavesExecutionContext


@pytest.fixture
def awaitables(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The field values graphql-core completes as awaitables (a future each)."""
    seen: list[str] = []
    original = ReadyLeavesExecutionContext.complete_awaitable_value

    def counting(self: Any, return_type: Any, *args: Any, **kw: Any) -> Any:
        seen.append(str(return_type))
        return original(self, return_type, *args, **kw)

    monkeypatch.setattr(ReadyLeavesExecutionContext, "complete_awaitable_value", counting)
    yield seen
