"""The servers of the speed table, each a process of its own, started and stopped here.

``python -m bench.serve hub|raw|bare --port P --workers N`` serves the hub as ``govhub
serve`` does (``Settings()`` from the ``GOVHUB_*`` environment, its logging, uvicorn
with its default event loop and HTTP parser, access lines at info level), or the raw
baseline (``bench.raw``) the same way: the same HTTP stack on both sides; ``bare`` is
the hub's GraphQL view without its protections. With N > 1,
uvicorn's supervisor runs N worker processes on one listening socket.

``ServerProcess`` starts any such command (PostGraphile too) in a session of its own,
waits for it to answer, and stops it (SIGTERM to its process group, SIGKILL after 15 s)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import IO

from starlette.applications import Starlette

from gateway.settings import Settings

APPS = {"hub": "bench.serve:hub_app", "raw": "bench.serve:raw_app", "bare": "bench.serve:bare"}


def hub_app() -> Starlette:
    """What ``govhub serve`` serves, built in each worker process."""
    from gateway.app import create_app
    from gateway.observability import configure_logging

    without = os.environ.get("GOVHUB_BENCH_WITHOUT")
    if without:
        # the protections table: one protection left out (bench.speed_protections)
        from bench.speed_protections import switch_off

        switch_off(without.split(","))
    settings = Settings()
    configure_logging(settings)
    return create_app(settings)


def bare() -> Starlette:
    """The hub's GraphQL view without its protections (``bench.protections.bare_app``:
    no limits, cost budget, body size or rate limits), on the hub's own lifespan."""
    from bench.protections import bare_app

    hub = hub_app()
    view = bare_app(hub)

    @contextlib.asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        async with hub.router.lifespan_context(hub):
            yield

    view.router.lifespan_context = lifespan
    return view


def raw_app() -> Starlette:
    from bench.raw import create_app
    from gateway.observability import configure_logging

    configure_logging(Settings())
    return create_app()


def main(argv: Sequence[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("app", choices=sorted(APPS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    uvicorn.run(
        APPS[args.app],
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="info",
        log_config=None,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """A server command run in its own session, its output appended to ``log``."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        port: int,
        env: dict[str, str],
        log: Path,
        cwd: Path,
        ready_path: str = "/health/live",
        any_status: bool = False,
        timeout: float = 60.0,
    ) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log: IO[bytes] = log.open("ab")
        self._process = subprocess.Popen(
            list(argv),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait(ready_path, timeout, log, any_status)
        except BaseException:
            self.stop()
            raise

    def _wait(self, path: str, timeout: float, log: Path, any_status: bool) -> None:
        """Until ``path`` answers 200 (any HTTP status with ``any_status``)."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"{self.base_url} exited with {self._process.returncode} before answering "
                    f"(see {log})"
                )
            try:
                with urllib.request.urlopen(self.base_url + path, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except urllib.error.HTTPError as exc:
                if any_status:
                    return
                last = repr(exc)
            except (OSError, urllib.error.URLError) as exc:
                last = repr(exc)
            time.sleep(0.1)
        raise RuntimeError(f"{self.base_url}{path} did not answer in {timeout:g}s: {last}")

    @property
    def pid(self) -> int:
        return self._process.pid

    def stop(self) -> None:
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(5)
        self._log.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def python_server(
    app: str, *, workers: int, env: dict[str, str], log: Path, cwd: Path
) -> ServerProcess:
    port = free_port()
    argv = [sys.executable, "-m", "bench.serve", app, "--port", str(port)]
    # each worker sizes its pools for the worker count (Settings.db_pool)
    env = {**env, "GOVHUB_WORKERS": str(workers)}
    return ServerProcess([*argv, "--workers", str(workers)], port=port, env=env, log=log, cwd=cwd)


if __name__ == "__main__":
    main()
