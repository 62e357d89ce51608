"""The supervision page in headless Chromium, against the demo city served by uvicorn.

The city auditor signs in, picks a county and another month and then the city and the
hub's current month, and the page must show exactly what the ``supervision`` query
answers over the API for the same arguments: every headline figure, one bar per level
and per rating bucket, one table row per org with cases. The screenshot must be a real
image of the window's size, not blank, with the bar colour of the CSS in the chart. A
resident is refused (FORBIDDEN, no figures), a wrong password is told.

``GOVHUB_UPDATE_SCREENSHOTS=1`` also writes the screenshot to docs/dashboard.png (the
the docs' picture, docs/concepts/dashboard.md)."""

from __future__ import annotations

import asyncio
import io
import os
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import WINDOW
from tests.conftest import DEMO_NOW

PASSWORD = "govhub-demo-2026"
CITY = "140700000000"
YUCI = "140702000000"
# the hub's clock is the demo's "now": its current month so far, and the whole month before
THIS_MONTH = (DEMO_NOW.date().replace(day=1).isoformat(), DEMO_NOW.date().isoformat())
LAST_MONTH = ("2026-10-01", "2026-10-31")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"
WAIT_SECONDS = 90

FIGURES = """
  received accepted completed completedOnTime onTimeRate immediate immediateShare
  immediateTargetMet promisedDays legalDays compressionRate online onlineRate onSite
  onSiteCompletionRate atMostOneVisit atMostOneVisitShare yellowCards redCards
  ratings { verySatisfied satisfied basic dissatisfied veryDissatisfied total }
  negativeRate complaints complaintsHandled complaintsOverdue
"""
SUPERVISION = f"""
query($code: String!, $from: Date, $to: Date) {{
  supervision(divisionCode: $code, from: $from, to: $to) {{
    divisionCode from to unavailableLevels
    totals {{ {FIGURES} }}
    byLevel {{ level figures {{ {FIGURES} }} }}
    byOrg {{ orgCode orgName level figures {{ {FIGURES} }} }}
  }}
}}"""
LOGIN = """
mutation($input: LoginInput!) {
  login(input: $input) { accessToken errors { code message } }
}"""

# the page's headline figures: counts, and rates shown as percentages
COUNTS = {
    "received": lambda f: f["received"],
    "accepted": lambda f: f["accepted"],
    "completed": lambda f: f["completed"],
    "yellowCards": lambda f: f["yellowCards"],
    "redCards": lambda f: f["redCards"],
    "rated": lambda f: f["ratings"]["total"],
    "complaints": lambda f: f["complaints"],
}
RATES = [
    "onTimeRate",
    "immediateShare",
    "compressionRate",
    "onlineRate",
    "onSiteCompletionRate",
    "atMostOneVisitShare",
    "negativeRate",
]
RATING_BUCKETS = ["verySatisfied", "satisfied", "basic", "dissatisfied", "veryDissatisfied"]

pytestmark = pytest.mark.filterwarnings(
    # selenium's and urllib3's own deprecations are none of the page's business
    "ignore::DeprecationWarning:selenium.*",
    "ignore::DeprecationWarning:urllib3.*",
)


# ------------------------------------------------------------------ the API, directly


def api(base: str, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Accept-Language": "zh"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=60,
        trust_env=False,
    )
    assert response.status_code == 200, response.text
    return response.json()


def token_of(base: str, username: str) -> str:
    body = api(
        base, LOGIN, {"input": {"username": username, "password": PASSWORD, "channel": "WEB"}}
    )
    token: str = body["data"]["login"]["accessToken"]
    return token


# ------------------------------------------------------------------ the page


class Dashboard:
    """The page as a user sees it; every method blocks (call it off the event loop)."""

    def __init__(self, driver: Any, base: str) -> None:
        self.driver = driver
        self.base = base

    def open(self) -> None:
        self.driver.get(f"{self.base}/dashboard")
        self.until("return document.body.dataset.ready === 'true'")

    def until(self, script: str, *args: Any) -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, WAIT_SECONDS, poll_frequency=0.1).until(
            lambda d: d.execute_script(script, *args)
        )

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def log_in(self, username: str, password: str) -> None:
        from selenium.webdriver.common.by import By

        for field, value in (("username", username), ("password", password)):
            element = self.driver.find_element(By.ID, field)
            element.clear()
            element.send_keys(value)
        self.driver.find_element(By.ID, "login-button").click()

    def choose(self, select_id: str, value: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        Select(self.driver.find_element(By.ID, select_id)).select_by_value(value)

    def wait_report(self, code: str, period: tuple[str, str]) -> None:
        self.until(
            """const r = document.getElementById('report');
               return r.dataset.state === 'ready' && !r.hidden
                 && r.dataset.division === arguments[0]
                 && r.dataset.from === arguments[1] && r.dataset.to === arguments[2];""",
            code,
            *period,
        )

    def wait_error(self, element_id: str) -> dict[str, str]:
        self.until(
            "const e = document.getElementById(arguments[0]); return !e.hidden && !!e.dataset.code",
            element_id,
        )
        error: dict[str, str] = self.js(
            """const e = document.getElementById(arguments[0]);
               return {code: e.dataset.code, message: e.querySelector('.message').textContent};""",
            element_id,
        )
        return error

    def figures(self) -> dict[str, str]:
        shown: dict[str, str] = self.js(
            """return Object.fromEntries([...document.querySelectorAll('[data-figure]')]
                 .map(e => [e.dataset.figure, e.textContent]));"""
        )
        return shown

    def options(self, select_id: str) -> list[str]:
        values: list[str] = self.js(
            "return [...document.getElementById(arguments[0]).options].map(o => o.value)",
            select_id,
        )
        return values


def shown_count(text: str) -> int:
    return int(text.replace(",", ""))


def assert_rate(text: str, value: float | None, what: str) -> None:
    if value is None:
        assert text == "—", what
        return
    assert text.endswith("%"), (what, text)
    # one decimal place of a percentage
    assert abs(float(text[:-1]) - value * 100) <= 0.05 + 1e-9, (what, text, value)


def active(figures: dict[str, Any]) -> bool:
    f = figures
    return any(
        [
            f["received"],
            f["completed"],
            f["ratings"]["total"],
            f["complaints"],
            f["yellowCards"],
            f["redCards"],
        ]
    )


def check_against_api(page: Dashboard, report: dict[str, Any]) -> None:
    totals = report["totals"]
    shown = page.figures()
    for name, count in COUNTS.items():
        assert shown_count(shown[name]) == count(totals), name
    for name in RATES:
        assert_rate(shown[name], totals[name], name)

    levels = page.js(
        """return [...document.querySelectorAll('#chart-levels g[data-level]')].map(g => ({
             level: g.dataset.level,
             bars: Object.fromEntries([...g.querySelectorAll('rect.bar')].map(r => [
               r.dataset.series, [Number(r.dataset.value), Number(r.getAttribute('height'))]
             ]))
           }));"""
    )
    assert [g["level"] for g in levels] == [row["level"] for row in report["byLevel"]]
    for group, row in zip(levels, report["byLevel"], strict=True):
        assert group["bars"]["received"][0] == row["figures"]["received"]
        assert group["bars"]["completed"][0] == row["figures"]["completed"]
    # bar heights follow the values: the largest bar is the tallest, an empty one is flat
    bars = [bar for g in levels for bar in g["bars"].values()]
    tallest = max(bars, key=lambda b: b[1])
    assert tallest[0] == max(b[0] for b in bars) > 0
    assert all(height == 0 for value, height in bars if value == 0)

    ratings = page.js(
        """return [...document.querySelectorAll('#chart-ratings g[data-bucket]')].map(g =>
             [g.dataset.bucket, g.querySelectorAll('rect.bar').length,
              Number(g.querySelector('rect.bar').dataset.value)]);"""
    )
    assert ratings == [[b, 1, totals["ratings"][b]] for b in RATING_BUCKETS]

    completed_orgs = [o for o in report["byOrg"] if o["figures"]["onTimeRate"] is not None]
    on_time = page.js(
        "return [...document.querySelectorAll('#chart-ontime g[data-org]')]"
        ".map(g => [g.dataset.org, Number(g.querySelector('rect.bar').dataset.value)])"
    )
    assert len(on_time) == min(12, len(completed_orgs))
    rates = {o["orgCode"]: o["figures"]["onTimeRate"] for o in completed_orgs}
    assert all(rates[code] == value for code, value in on_time)
    assert [v for _, v in on_time] == sorted(v for _, v in on_time)

    rows = page.js(
        """return [...document.querySelectorAll('#org-table tbody tr')].map(tr =>
             [tr.dataset.org, ...[...tr.children].map(c => c.textContent)]);"""
    )
    expected = [o for o in report["byOrg"] if active(o["figures"])]
    assert [r[0] for r in rows] == [o["orgCode"] for o in expected]
    for row, org in zip(rows, expected, strict=True):
        f = org["figures"]
        assert row[1] == org["orgName"]
        assert [shown_count(row[i]) for i in (3, 4, 5)] == [
            f["received"],
            f["accepted"],
            f["completed"],
        ]
        assert_rate(row[6], f["onTimeRate"], f"{org['orgCode']} onTimeRate")


def colours(image: Any) -> Counter[tuple[int, int, int]]:
    """How many pixels of each colour an RGB image has."""
    found = image.getcolors(maxcolors=image.size[0] * image.size[1])
    return Counter({colour: n for n, colour in found})


def check_screenshot(page: Dashboard) -> bytes:
    from PIL import Image

    page.js("window.scrollTo(0, 0)")
    png: bytes = page.driver.get_screenshot_as_png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height, ratio = page.js(
        "return [window.innerWidth, window.innerHeight, window.devicePixelRatio]"
    )
    assert image.size == (round(width * ratio), round(height * ratio))
    assert image.size == WINDOW

    # not blank: many colours (text, tiles, bars), and most of it is not the background
    pixels = colours(image)
    background, count = pixels.most_common(1)[0]
    assert len(pixels) > 200
    assert 1 - count / (image.size[0] * image.size[1]) > 0.2

    # the level chart is in the picture and shows the CSS's bar colour
    fill = page.js(
        "return getComputedStyle(document.querySelector("
        "'#chart-levels rect.bar[data-series=received]')).fill"
    )
    bar = tuple(int(c) for c in fill[fill.index("(") + 1 : fill.index(")")].split(","))
    assert bar == (0x25, 0x63, 0xEB), fill  # --bar in dashboard.css
    box = page.js(
        "const r = document.querySelector('#chart-levels svg').getBoundingClientRect();"
        "return [r.left, r.top, r.right, r.bottom]"
    )
    assert box[1] >= 0 and box[3] <= height, "the level chart is below the fold"
    chart = image.crop(tuple(round(v * ratio) for v in box))
    bar_pixels = colours(chart)[bar]
    assert bar_pixels > 200, bar_pixels
    assert background != bar
    return png


# ------------------------------------------------------------------ the journeys


async def test_the_auditor_sees_what_the_api_answers(hub: str, browser: Any) -> None:
    page = Dashboard(browser, hub)

    def journey() -> dict[str, Any]:
        page.open()
        page.log_in("jz.auditor", PASSWORD)
        # by default: the auditor's jurisdiction, the hub's current month so far
        page.wait_report(CITY, THIS_MONTH)
        assert page.options("division")[:2] == [CITY, "140702000000"]
        periods = page.options("period")
        assert periods[:2] == ["2026-11", "2026-10"] and len(periods) == 12

        page.choose("division", YUCI)
        page.wait_report(YUCI, THIS_MONTH)
        page.choose("period", "2026-10")
        page.wait_report(YUCI, LAST_MONTH)
        yuci_october = page.figures()
        page.choose("division", CITY)
        page.wait_report(CITY, LAST_MONTH)
        page.choose("period", "2026-11")
        page.wait_report(CITY, THIS_MONTH)

        token = token_of(hub, "jz.auditor")
        body = api(
            hub, SUPERVISION, {"code": CITY, "from": THIS_MONTH[0], "to": THIS_MONTH[1]}, token
        )
        assert "errors" not in body, body
        report: dict[str, Any] = body["data"]["supervision"]
        assert report["totals"]["received"] > 0, "the demo has cases this month"
        check_against_api(page, report)

        earlier = api(
            hub, SUPERVISION, {"code": YUCI, "from": LAST_MONTH[0], "to": LAST_MONTH[1]}, token
        )
        assert (
            shown_count(yuci_october["received"])
            == earlier["data"]["supervision"]["totals"]["received"]
        )

        png = check_screenshot(page)
        if os.environ.get("GOVHUB_UPDATE_SCREENSHOTS") == "1":
            SCREENSHOT.parent.mkdir(exist_ok=True)
            SCREENSHOT.write_bytes(png)

        # nothing refused by the CSP, no failed request, no script error
        problems = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert problems == []

        browser.find_element("id", "logout").click()
        page.until("return !document.getElementById('login-panel').hidden")
        assert page.js("return document.getElementById('report-panel').hidden") is True
        return report

    await asyncio.to_thread(journey)


async def test_a_resident_is_refused_and_sees_no_figures(hub: str, browser: Any) -> None:
    page = Dashboard(browser, hub)

    def journey() -> None:
        page.open()
        page.log_in("resident1", PASSWORD)
        error = page.wait_error("report-error")
        assert error["code"] == "FORBIDDEN"
        division = page.js("return document.getElementById('division').value")
        body = api(hub, SUPERVISION, {"code": division}, token_of(hub, "resident1"))
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert error["message"] == body["errors"][0]["message"]
        assert page.js("return document.getElementById('report').hidden") is True
        assert set(page.figures().values()) == {"—"}

    await asyncio.to_thread(journey)


async def test_a_wrong_password_is_told(hub: str, browser: Any) -> None:
    page = Dashboard(browser, hub)

    def journey() -> None:
        page.open()
        page.log_in("jz.auditor", "not-the-password")
        error = page.wait_error("login-error")
        body = api(
            hub,
            LOGIN,
            {"input": {"username": "jz.auditor", "password": "wrong", "channel": "WEB"}},
        )
        told = body["data"]["login"]["errors"][0]
        assert (error["code"], error["message"]) == (told["code"], told["message"])
        assert page.js("return document.getElementById('report-panel').hidden") is True
        assert set(page.figures().values()) == {"—"}

    await asyncio.to_thread(journey)


# wraps the page's fetch: records each GraphQL operation and its HTTP status, and can
# spoil the next supervision call's token or the next refresh token on request
SPY = """
window.__calls = [];
window.__spoilToken = 0;
window.__spoilRefresh = 0;
const realFetch = window.fetch.bind(window);
window.fetch = async (url, init) => {
  const body = JSON.parse(init.body);
  const op = (body.query.match(/(?:query|mutation) (\\w+)/) || [])[1];
  const headers = {...init.headers};
  if (op === 'DashboardSupervision' && window.__spoilToken > 0) {
    window.__spoilToken -= 1;
    headers.Authorization = 'Bearer not-a-token';
  }
  if (op === 'DashboardRefresh' && window.__spoilRefresh > 0) {
    window.__spoilRefresh -= 1;
    body.variables.input.refreshToken = 'not-a-refresh-token';
  }
  const response = await realFetch(url, {...init, headers, body: JSON.stringify(body)});
  window.__calls.push([op, response.status]);
  return response;
};
"""
# the page's clock, moved on: its access token is then past its lifetime
LATER = """
const realNow = window.__realNow || Date.now.bind(Date);
window.__realNow = realNow;
Date.now = () => realNow() + arguments[0] * 1000;
"""


async def test_the_page_renews_its_token(hub: str, browser: Any) -> None:
    page = Dashboard(browser, hub)

    def journey() -> None:
        page.open()
        page.log_in("jz.auditor", PASSWORD)
        page.wait_report(CITY, THIS_MONTH)
        page.js(SPY)

        # the hub refuses the access token (401): one refresh, and the query again
        page.js("window.__spoilToken = 1")
        page.choose("division", YUCI)
        page.wait_report(YUCI, THIS_MONTH)
        assert page.js("return window.__calls") == [
            ["DashboardSupervision", 401],
            ["DashboardRefresh", 200],
            ["DashboardSupervision", 200],
        ]

        # past the token's lifetime by the page's clock: renewed before the query
        page.js("window.__calls = []")
        page.js(LATER, 3600)
        page.choose("division", CITY)
        page.wait_report(CITY, THIS_MONTH)
        assert page.js("return window.__calls") == [
            ["DashboardRefresh", 200],
            ["DashboardSupervision", 200],
        ]

        # a refresh the hub refuses: signed out, asked to sign in again, no figures
        page.js("window.__calls = []")
        page.js("window.__spoilRefresh = 1")
        page.js(LATER, 7200)
        page.choose("division", YUCI)
        error = page.wait_error("login-error")
        assert error["code"] == "SESSION_EXPIRED" and error["message"], error
        assert page.js("return window.__calls") == [["DashboardRefresh", 200]]
        assert page.js("return document.getElementById('report-panel').hidden") is True
        assert set(page.figures().values()) == {"—"}

    await asyncio.to_thread(journey)
