"""The ``desk`` of a case scenario: its own hub and clock over the shared demo stores."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from tests.auth.conftest import own_hub
from tests.scenarios.desk import STAFF, Desk


@pytest.fixture
async def desk(settings: Settings, nodes: NodeRegistry) -> AsyncIterator[Desk]:
    async with own_hub(settings, nodes) as hub:
        d = Desk(hub)
        await d.sign_in("resident1", *STAFF)
        yield d
