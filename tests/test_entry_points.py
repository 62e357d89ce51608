"""Every module a command imports on its own loads in a fresh interpreter: inside the
test session everything is already imported, so an import cycle that breaks, say,
`govhub report monthly` on a real machine would pass every other test."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# modules the commands (gateway/cli/) import first inside them (the app and `govhub serve`
# import `schema` first, which is the order everything else is tested in)
ENTRY_MODULES = [
    "gateway.cli",
    "gateway.report",
    "gateway.messaging.factory",
    "gateway.timers",
    "gateway.graphiql.vendor",
    "bench.__main__",
]


@pytest.mark.skipif(
    os.environ.get("GOVHUB_TEST_BACKEND") == "postgres",
    reason="imports do not depend on the backend: checked in the SQLite pass",
)
@pytest.mark.parametrize("module", ENTRY_MODULES)
def test_module_imports_on_its_own(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
