"""GraphiQL on an intranet: the page at /graphql in headless Chromium that can reach no
host but loopback (every other name resolves to nothing, as on a government network
without internet). It must load from the hub alone, run a query and show the answer,
and list the schema's types in its docs explorer, with no console error (a script or
style blocked by the Content-Security-Policy, or fetched from elsewhere, is one)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from gateway import graphiql
from tests.browser.conftest import start_chromium
from tests.support.served import unavailable

WAIT_SECONDS = 90
# everything but loopback resolves to nothing
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
QUERY = '{ division(code: "140700000000") { code name level } }'

pytestmark = pytest.mark.filterwarnings(
    # selenium's and urllib3's own deprecations are none of the page's business
    "ignore::DeprecationWarning"
)


@pytest.fixture(scope="module")
def offline_browser() -> Iterator[Any]:
    if not graphiql.installed():
        unavailable("GraphiQL's assets are not installed", "run `make graphiql` (needs npm)")
    driver = start_chromium(OFFLINE)
    try:
        yield driver
    finally:
        driver.quit()


def until(driver: Any, script: str, *args: Any) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.1).until(
        lambda d: d.execute_script(script, *args)
    )


def console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def graphiql_session(driver: Any, base: str) -> dict[str, Any]:
    # the browser cannot reach the CDN the page used to load from
    unreachable = driver.execute_async_script(
        "const done = arguments[0];"
        "fetch('https://unpkg.com/react@18.2.0/umd/react.production.min.js')"
        ".then(() => done('reached'), () => done('unreachable'));"
    )
    driver.get_log("browser")  # drop what that (and earlier pages) logged
    driver.get(f"{base}/graphql")
    until(driver, "return document.querySelector('.graphiql-query-editor .CodeMirror') !== null")
    loaded_from = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    # run a query: type it into the editor, press the run button
    driver.execute_script(
        "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue("
        "arguments[0])",
        QUERY,
    )
    # GraphiQL reads the edited document's operation a moment after the edit, as it
    # does while someone types: press run again (once a second) until the answer is in
    answer = until(
        driver,
        "const r = document.querySelector('.graphiql-response .CodeMirror');"
        "const text = r && r.CodeMirror.getValue();"
        "if (text && text.includes('\"data\"')) return text;"
        "if (!window.lastRun || Date.now() - window.lastRun > 1000) {"
        "  window.lastRun = Date.now();"
        "  document.querySelector('.graphiql-execute-button').click();"
        "}"
        "return null;",
    )
    # the docs explorer: the root types, then Query's fields
    driver.execute_script(
        "document.querySelector('[aria-label=\"Show Documentation Explorer\"]').click()"
    )
    roots = until(
        driver,
        "const d = document.querySelector('.graphiql-doc-explorer');"
        "const links = d ? [...d.querySelectorAll('.graphiql-doc-explorer-type-name')] : [];"
        "return links.length ? links.map(a => a.textContent) : null;",
    )
    driver.execute_script(
        "[...document.querySelectorAll('.graphiql-doc-explorer-type-name')]"
        ".find(a => a.textContent === 'Query').click()"
    )
    fields = until(
        driver,
        "const names = [...document.querySelectorAll("
        "'.graphiql-doc-explorer .graphiql-doc-explorer-field-name')].map(a => a.textContent);"
        "return names.length ? names : null;",
    )
    return {
        "unreachable": unreachable,
        "loaded_from": loaded_from,
        "answer": answer,
        "roots": roots,
        "fields": fields,
        "errors": console_errors(driver),
    }


async def test_graphiql_runs_a_query_and_shows_the_schema_with_no_internet(
    offline_browser: Any, hub: str
) -> None:
    seen = await asyncio.to_thread(graphiql_session, offline_browser, hub)
    assert seen["unreachable"] == "unreachable"  # the test's network has no internet
    assert seen["loaded_from"], "the page loaded no script or style"
    assert all(url.startswith(hub) for url in seen["loaded_from"]), seen["loaded_from"]
    assert '"name": "晋中市"' in seen["answer"], seen["answer"]
    assert "Query" in seen["roots"] and "Mutation" in seen["roots"]
    assert {"division", "cases", "supervision"} <= set(seen["fields"])
    assert seen["errors"] == []
