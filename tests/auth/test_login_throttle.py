"""The login throttle under attack: attempts at the same time are counted before any
password is checked (at most the budget is ever checked), failures and the lock are
counted in one SQL statement (none is lost), and one address's budget is far larger
than one account's (a shared address is not locked out by one person's mistakes)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from auth import sessions
from auth.models import Account
from gateway.nodes import NodeRegistry
from gateway.settings import Settings
from tests.auth.conftest import LOGIN, PASSWORD, NewAccount, login, own_hub

BURST = 50


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords that reached the (argon2) check, in order."""
    calls: list[str] = []
    real = sessions.verify_password

    def counting(stored: str | None, password: str) -> bool:
        calls.append(password)
        return real(stored, password)

    monkeypatch.setattr(sessions, "verify_password", counting)
    return calls


def _code(payload: dict[str, Any]) -> str:
    return "OK" if not payload["errors"] else payload["errors"][0]["code"]


async def _account(nodes: NodeRegistry, username: str) -> Account:
    async with nodes.identity.sessions() as session:
        account = await session.scalar(select(Account).where(Account.username == username))
    assert account is not None
    return account


async def test_concurrent_guesses_check_at_most_the_budget(
    settings: Settings, nodes: NodeRegistry, new_account: NewAccount, checked: list[str]
) -> None:
    username = await new_account()
    async with own_hub(settings, nodes) as hub:
        payloads = await asyncio.gather(
            *(login(hub.gql, username, password=f"guess-{i}-xxxxxx") for i in range(BURST))
        )
        codes = Counter(_code(p) for p in payloads)
        budget = settings.login_failures_per_minute
        assert len(checked) == budget
        assert codes == {"INVALID_CREDENTIALS": budget, "RATE_LIMITED": BURST - budget}
        # the right password is refused too until the window has passed
        assert _code(await login(hub.gql, username, password=PASSWORD)) == "RATE_LIMITED"
        assert len(checked) == budget
    assert (await _account(nodes, username)).failed_logins == budget


async def test_concurrent_failures_each_count(
    settings: Settings, nodes: NodeRegistry, new_account: NewAccount
) -> None:
    """With a budget that lets every guess through, each one is a failure in a row."""
    username = await new_account()
    budgets = {"login_failures_per_minute": 1000, "login_attempts_per_minute_per_ip": 1000}
    async with own_hub(settings, nodes, lockout_failures=BURST + 10, **budgets) as hub:
        await asyncio.gather(
            *(login(hub.gql, username, password=f"guess-{i}-xxxxxx") for i in range(BURST))
        )
    account = await _account(nodes, username)
    assert account.failed_logins == BURST and account.locked_until is None


async def test_concurrent_failures_lock_the_account(
    settings: Settings, nodes: NodeRegistry, new_account: NewAccount
) -> None:
    username = await new_account()
    budgets = {"login_failures_per_minute": 1000, "login_attempts_per_minute_per_ip": 1000}
    async with own_hub(settings, nodes, lockout_failures=10, **budgets) as hub:
        codes = await asyncio.gather(
            *(login(hub.gql, username, password=f"guess-{i}-xxxxxx") for i in range(BURST))
        )
        assert {_code(p) for p in codes} == {"INVALID_CREDENTIALS"}
        assert _code(await login(hub.gql, username, password=PASSWORD)) == "ACCOUNT_LOCKED"
    account = await _account(nodes, username)
    assert account.locked_until is not None
    # fifty failures in a row: five times the ten that lock, none lost
    assert account.failed_logins == BURST % 10


async def test_a_resident_signs_in_while_a_neighbour_is_guessed(
    settings: Settings, nodes: NodeRegistry, new_account: NewAccount
) -> None:
    """A county hall behind one address: someone guesses one account and mistypes
    usernames; everyone else at that address still signs in."""
    guessed, resident = await new_account(), await new_account()
    async with own_hub(settings, nodes) as hall:
        guesses = await asyncio.gather(
            *(login(hall.gql, guessed, password=f"guess-{i}-xxxxxx") for i in range(20))
        )
        assert Counter(_code(p) for p in guesses)["RATE_LIMITED"] == 15
        for _ in range(6):
            stray = f"nobody-{uuid.uuid4().hex[:8]}"
            assert _code(await login(hall.gql, stray, password="wrong-password")) == (
                "INVALID_CREDENTIALS"
            )
        assert _code(await login(hall.gql, resident, password=PASSWORD)) == "OK"
        assert _code(await login(hall.gql, guessed, password=PASSWORD)) == "RATE_LIMITED"


async def test_a_spray_from_one_address_reaches_its_budget(
    settings: Settings, nodes: NodeRegistry, new_account: NewAccount, checked: list[str]
) -> None:
    resident = await new_account()
    async with own_hub(settings, nodes, login_attempts_per_minute_per_ip=8) as sprayer:
        sprayed = await asyncio.gather(
            *(
                login(sprayer.gql, f"nobody-{uuid.uuid4().hex[:8]}", password="wrong-password")
                for _ in range(BURST)
            )
        )
        assert Counter(_code(p) for p in sprayed)["INVALID_CREDENTIALS"] == 8
        assert len(checked) == 8
        response = await sprayer.gql.post(
            LOGIN, {"username": resident, "password": PASSWORD, "channel": "WEB"}
        )
        assert response.json()["data"]["login"]["errors"][0]["code"] == "RATE_LIMITED"
        assert 45 <= int(response.headers["retry-after"]) <= 61
    # the account itself was never guessed: from another address it signs in
    async with own_hub(settings, nodes) as elsewhere:
        assert _code(await login(elsewhere.gql, resident, password=PASSWORD)) == "OK"
