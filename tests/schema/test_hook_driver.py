"""The phases' hooks driven without a ``contextlib`` manager per hook (schema/hooks.py)
behave as Strawberry's own exit stacks: the same order in and out, and, when a hook or
the phase raises, the same exception out with the same chain, the same exception seen
by each hook, the same suppression — compared case by case with Strawberry's managers."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import ExecutingContextManager, OperationContextManager

from schema.hooks import Executing, Operation

# what a hook does on its way out: finish, raise, swallow what was thrown in, raise
# something else instead of it, or yield again
BEHAVIOURS = ("finish", "raise", "suppress", "replace", "no-stop")


def _extension(name: str, behaviour: str, asynchronous: bool, log: list[str]) -> SchemaExtension:
    def after(thrown: BaseException | None) -> None:
        log.append(f"{name} out ({type(thrown).__name__ if thrown else '-'})")
        if behaviour == "raise":
            raise ValueError(f"{name} failed")
        if behaviour == "replace" and thrown is not None:
            raise KeyError(f"{name} replaced")

    def hook() -> Iterator[None]:
        log.append(f"{name} in")
        try:
            yield
        except Exception as thrown:
            after(thrown)
            if behaviour != "suppress":
                raise
            return
        after(None)
        if behaviour == "no-stop":
            yield

    class Sync(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            yield from hook()

        on_execute = on_operation

    class Async(SchemaExtension):
        async def on_operation(self) -> AsyncIterator[None]:
            # the same hook's steps, each given what the phase threw in at its yield
            steps = hook()
            for _ in steps:
                try:
                    yield
                except Exception as thrown:
                    try:
                        steps.throw(thrown)
                    except StopIteration:
                        return

        on_execute = on_operation

    return Async() if asynchronous else Sync()


def _chain(error: BaseException | None) -> list[str]:
    seen = []
    while error is not None and len(seen) < 10:
        seen.append(f"{type(error).__name__}: {error}")
        error = error.__context__
    return seen


async def _run(manager: Any, body_raises: bool, log: list[str]) -> list[str]:
    try:
        async with manager:
            log.append("body")
            if body_raises:
                raise LookupError("body failed")
    except BaseException as error:
        return _chain(error)
    return []


def _run_sync(manager: Any, body_raises: bool, log: list[str]) -> list[str]:
    try:
        with manager:
            log.append("body")
            if body_raises:
                raise LookupError("body failed")
    except BaseException as error:
        return _chain(error)
    return []


def _cases() -> Iterator[tuple[tuple[str, ...], tuple[bool, ...], bool]]:
    for behaviours in itertools.product(BEHAVIOURS, repeat=2):
        for kinds in ((False, False), (True, False), (False, True), (True, True)):
            for body_raises in (False, True):
                yield behaviours, kinds, body_raises
    for behaviours in (("finish", "raise", "suppress"), ("replace", "finish", "raise")):
        for body_raises in (False, True):
            yield behaviours, (True, False, True), body_raises


@pytest.mark.parametrize(("behaviours", "kinds", "body_raises"), list(_cases()))
async def test_the_direct_hooks_unwind_as_strawberrys_exit_stack(
    behaviours: tuple[str, ...], kinds: tuple[bool, ...], body_raises: bool
) -> None:
    outcomes = []
    for ours, theirs in (
        (Operation, OperationContextManager),
        (Executing, ExecutingContextManager),
    ):
        for manager in (ours, theirs):
            log: list[str] = []
            extensions = [
                _extension(f"e{i}", b, k, log)
                for i, (b, k) in enumerate(zip(behaviours, kinds, strict=True))
            ]
            raised = await _run(manager(extensions), body_raises, log)
            outcomes.append((log, raised))
    assert outcomes[0] == outcomes[1]
    assert outcomes[2] == outcomes[3]


@pytest.mark.parametrize(
    ("behaviours", "body_raises"),
    [(b, r) for b in itertools.product(BEHAVIOURS, repeat=3) for r in (False, True)],
)
def test_the_sync_path_unwinds_as_strawberrys_exit_stack(
    behaviours: tuple[str, ...], body_raises: bool
) -> None:
    outcomes = []
    for manager in (Operation, OperationContextManager):
        log: list[str] = []
        extensions = [_extension(f"e{i}", b, False, log) for i, b in enumerate(behaviours)]
        outcomes.append((log, _run_sync(manager(extensions), body_raises, log)))
    assert outcomes[0] == outcomes[1]


def test_an_async_hook_in_a_sync_phase_is_refused_as_strawberry_refuses_it() -> None:
    for manager in (Operation, OperationContextManager):
        log: list[str] = []
        extensions = [_extension("e0", "finish", False, log), _extension("e1", "finish", True, log)]
        with (
            pytest.raises(RuntimeError, match="failed to complete synchronously"),
            manager(extensions),
        ):
            log.append("body")
        assert log == ["e0 in"]
