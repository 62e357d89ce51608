"""How the hub is served: start-up's objects are frozen out of the garbage collector's
reach once the app has started (short gen-2 pauses under load), and `govhub serve`
runs several worker processes when GOVHUB_WORKERS asks, each building its own app."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner

from gateway.app import create_app
from gateway.cli import main
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from levels.common.clock import FixedClock


async def test_start_up_is_frozen_out_of_the_collectors_reach(
    settings: Settings, nodes: NodeRegistry, clock: FixedClock
) -> None:
    quiet = settings.model_copy(update={"timer_interval_seconds": 0, "relay_interval_seconds": 0})
    app = create_app(quiet, nodes=nodes, clock=clock)
    gc.unfreeze()
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("workers", ["1", "3"])
def test_serve_runs_the_workers_asked_for(
    workers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.setenv("GOVHUB_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GOVHUB_WORKERS", workers)
    assert CliRunner().invoke(main, ["init"]).exit_code == 0  # serve refuses stores behind
    result = CliRunner().invoke(main, ["serve", "--port", "8765"])
    assert result.exit_code == 0, result.output
    ((app, options),) = calls
    assert options["port"] == 8765
    if workers == "1":
        assert not isinstance(app, str) and "workers" not in options
    else:
        assert app == "gateway.app:create_app" and options["factory"] is True
        assert options["workers"] == 3
