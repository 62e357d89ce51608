"""An event loop in a background thread, and the hub served on it by uvicorn.

The stores' engines are created, used and disposed on this one loop (asyncpg and
aiosqlite connections belong to the loop that opened them); the HTTP client runs on
the main thread's own loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
import uvicorn
from starlette.applications import Starlette

T = TypeVar("T")


class LoopThread:
    """A daemon thread running its own event loop; coroutines are submitted to it."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the thread's loop and wait for it (from another thread)."""
        return self.submit(coro).result(timeout)

    async def run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` running on the thread's loop, from another loop."""
        return await asyncio.wrap_future(self.submit(coro))

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.run(self.loop.shutdown_asyncgens(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self.loop.close()


class Served:
    """The app served by uvicorn on a free loopback port, on ``thread``'s loop."""

    def __init__(self, thread: LoopThread, app: Starlette) -> None:
        # proto=IPPROTO_TCP as uvicorn's own bind would have it: asyncio sets TCP_NODELAY
        # on accepted connections only then (without it, delayed ACKs add ~40 ms)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="on", timeout_keep_alive=30
        )
        self._server = uvicorn.Server(config)
        self._done = thread.submit(self._server.serve(sockets=[self._sock]))
        self._wait_live(timeout=20.0)

    def _wait_live(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        last: str = "no answer yet"
        with httpx.Client(base_url=self.base_url, trust_env=False, timeout=2.0) as client:
            while time.perf_counter() < deadline:
                if self._done.done():
                    self._done.result()  # raises what stopped the server
                    raise RuntimeError("uvicorn stopped before answering /health/live")
                try:
                    response = client.get("/health/live")
                    if response.status_code == 200:
                        return
                    last = f"HTTP {response.status_code}"
                except httpx.TransportError as exc:
                    last = repr(exc)
                time.sleep(0.05)
        raise RuntimeError(f"{self.base_url}/health/live did not answer in {timeout}s: {last}")

    def stop(self) -> None:
        self._server.should_exit = True
        try:
            self._done.result(timeout=15)
        finally:
            self._sock.close()
