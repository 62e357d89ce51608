"""The transport's rules without a relay: how long a failing message waits, which
handler modules load, one handler per topic, and what ``enqueue`` refuses."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from levels.outbox import registry, service
from levels.outbox.service import Envelope, RetryPolicy


def test_a_failing_message_waits_twice_as_long_each_time_up_to_a_cap() -> None:
    policy = RetryPolicy(max_attempts=8, first_delay=2, max_delay=60)
    delays = [policy.delay(n).total_seconds() for n in range(1, 9)]
    assert delays == [2, 4, 8, 16, 32, 60, 60, 60]


def test_handler_modules_not_written_yet_are_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "HANDLER_MODULES", ("levels.no_such_module_yet",))
    assert service.load_handlers() is service.HANDLERS


def test_a_handler_module_that_fails_to_import_is_not_hidden(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    package = tmp_path / "outbox_test_handlers"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "broken.py").write_text("import outbox_test_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(
        service, "HANDLER_MODULES", ("outbox_test_handlers.missing", "outbox_test_handlers.broken")
    )
    with pytest.raises(ModuleNotFoundError) as raised:
        service.load_handlers()
    assert raised.value.name == "outbox_test_no_such_dependency"
    for name in ("outbox_test_handlers", "outbox_test_handlers.broken"):
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_a_topic_has_one_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "HANDLERS", {})

    async def first(_session: AsyncSession, _envelope: Envelope, _now: dt.datetime) -> None:
        return None

    async def second(_session: AsyncSession, _envelope: Envelope, _now: dt.datetime) -> None:
        return None

    registry.handler("test.one")(first)
    registry.handler("test.one")(first)  # again: the same
    with pytest.raises(ValueError, match="already has a handler"):
        registry.handler("test.one")(second)
