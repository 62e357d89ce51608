"""The hub served by uvicorn on a free loopback port, and Debian's headless Chromium
driven by Selenium through ``/usr/bin/chromedriver``.

The server runs on the test session's own event loop, where the demo stores' engines
live (asyncpg and aiosqlite connections belong to the loop that opened them). So every
blocking browser call must leave that loop free: tests run their browser steps with
``await asyncio.to_thread(...)``.

``make browser`` (a step of ``make test``) installs Chromium. In CI (``CI=true``) a
missing browser fails these tests; elsewhere they are skipped and say why."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.served import served, unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WINDOW = (1366, 900)


def _unavailable(reason: str) -> None:
    unavailable(reason, "run `make browser` (as root) to install Chromium")


@pytest.fixture(scope="module")
async def hub(app: Any) -> AsyncIterator[str]:
    """The base URL of the hub (the session's demo app) served over real HTTP; no
    WebSocket implementation is loaded (the page does not subscribe)."""
    async with served(app, ws="none") as base_url:
        yield base_url


def start_chromium(*extra: str) -> Any:
    """Headless Chromium with ``extra`` command-line switches; Selenium Manager is kept
    offline (the driver path is given)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        _unavailable(f"{', '.join(missing)} not installed")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:  # pragma: no cover - selenium is in the dev extras
        _unavailable("selenium is not installed")
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--force-color-profile=srgb",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
        "--lang=zh-CN",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        *extra,
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    # the window's frame takes some of --window-size: make the viewport itself WINDOW
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * WINDOW[0] - inner[0], 2 * WINDOW[1] - inner[1])
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium."""
    driver = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()
