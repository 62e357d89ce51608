"""Strawberry's extension hooks, looked up once per extension class instead of once per
operation.

For every operation Strawberry asks each of the schema's ~12 extensions for each of its
four hooks (operation, parse, validate, execute): it inspects the hook (generator? async
generator?) and wraps it in a fresh ``contextlib`` decorator, ``functools.update_wrapper``
included, before entering it. The answer depends on the class alone, so here it is found
once per class and hook. Each phase then drives its hooks' generators itself, in
Strawberry's order, without a ``contextlib`` manager and exit-stack entry per hook; an
exception on the way out goes through ``contextlib``'s own exit stack, as before."""

from __future__ import annotations

import contextlib
import inspect
from functools import partial
from types import TracebackType
from typing import Any

from graphql.execution.middleware import MiddlewareManager
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.utils.await_maybe import await_maybe

# (extension class, hook name) → (the hook's function, is async), None for a class
# without that hook, or STRAWBERRY for a hook of another kind (left to Strawberry)
STRAWBERRY = object()
_found: dict[tuple[type, str], Any] = {}


def _lookup(kind: type, name: str) -> Any:
    key = (kind, name)
    found = _found.get(key, _found)
    if found is not _found:
        return found
    hook = getattr(kind, name)
    if hook is getattr(SchemaExtension, name):
        found = None
    elif inspect.isgeneratorfunction(hook):
        found = (hook, False)
    elif inspect.isasyncgenfunction(hook):
        found = (hook, True)
    else:
        found = STRAWBERRY
    _found[key] = found
    return found


# (extension classes, hook name) → ((index, hook function, is async), …) of the classes
# with that hook, in order; None when one of them has a hook of another kind
_plans: dict[tuple[tuple[type, ...], str], tuple[tuple[int, Any, bool], ...] | None] = {}


def _plan(kinds: tuple[type, ...], name: str) -> tuple[tuple[int, Any, bool], ...] | None:
    key = (kinds, name)
    try:
        return _plans[key]
    except KeyError:
        pass
    steps: list[tuple[int, Any, bool]] = []
    plan: tuple[tuple[int, Any, bool], ...] | None = None
    for index, kind in enumerate(kinds):
        found = _lookup(kind, name)
        if found is None:
            continue
        if found is STRAWBERRY:
            break
        steps.append((index, found[0], found[1]))
    else:
        plan = tuple(steps)
    _plans[key] = plan
    return plan


def _sync_shell(gen: Any) -> contextlib.AbstractContextManager[Any]:
    """contextlib's own context manager around a generator already entered: its
    ``__exit__`` is what an exit stack calls."""
    shell = contextlib._GeneratorContextManager.__new__(contextlib._GeneratorContextManager)
    shell.gen = gen
    return shell


def _async_shell(gen: Any) -> contextlib.AbstractAsyncContextManager[Any]:
    shell = contextlib._AsyncGeneratorContextManager.__new__(
        contextlib._AsyncGeneratorContextManager
    )
    shell.gen = gen
    return shell


class _ClassHooks(ExtensionContextManagerBase):
    """One phase's hooks of every extension, driven directly: each generator hook is
    started in the extensions' order and finished in the reverse order — what
    Strawberry's exit stack of ``contextlib`` managers does, without a manager, an exit
    wrapper and a stack entry per hook and operation. When a hook raises on the way out,
    or the phase ends with an exception, the hooks still open are closed through
    ``contextlib``'s own exit stack and managers, so exceptions are thrown into them,
    suppressed, replaced and chained exactly as before. A hook that fails on the way in
    leaves the others as Strawberry does (its stack is not unwound either)."""

    __slots__ = ("direct", "entered")

    def __init__(
        self, extensions: list[SchemaExtension], kinds: tuple[type, ...] | None = None
    ) -> None:
        self.hooks: list[WrappedHook] = []
        self.default_hook = getattr(SchemaExtension, self.HOOK_NAME)
        # (hook function, extension, is async) in the extensions' order; None when a
        # hook of another kind is among them (then Strawberry's own path for all)
        plan = _plan(kinds if kinds is not None else tuple(map(type, extensions)), self.HOOK_NAME)
        self.direct = (
            None
            if plan is None
            else [(function, extensions[index], is_async) for index, function, is_async in plan]
        )
        self.entered: list[tuple[Any, bool]] = []
        if plan is None:
            for extension in extensions:
                hook = self.get_hook(extension)
                if hook is not None:
                    self.hooks.append(hook)

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        found = _lookup(type(extension), self.HOOK_NAME)
        if found is None or found is STRAWBERRY:
            return super().get_hook(extension)
        function, is_async = found
        wrap = contextlib.asynccontextmanager if is_async else contextlib.contextmanager
        return WrappedHook(extension, partial(wrap(function), extension), is_async)

    def __enter__(self) -> None:
        if self.direct is None:
            return super().__enter__()
        entered = self.entered
        for function, extension, is_async in self.direct:
            if is_async:
                raise RuntimeError(
                    f"SchemaExtension hook {extension}.{self.HOOK_NAME} "
                    "failed to complete synchronously."
                )
            gen = function(extension)
            try:
                next(gen)
            except StopIteration:
                raise RuntimeError("generator didn't yield") from None
            entered.append((gen, False))
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        if self.direct is None:
            return super().__exit__(exc_type, exc_val, exc_tb)
        entered = self.entered
        if exc_type is None:
            while entered:
                gen, _ = entered.pop()
                try:
                    next(gen)
                except StopIteration:
                    continue
                except BaseException as error:
                    exc_type, exc_val, exc_tb = type(error), error, error.__traceback__
                    break
                exc_val = RuntimeError("generator didn't stop")
                exc_type, exc_tb = RuntimeError, None
                break
            else:
                return None
            raised = exc_val
        else:
            raised = None
        stack = contextlib.ExitStack()
        for gen, _ in entered:
            stack.push(_sync_shell(gen))
        entered.clear()
        if not stack.__exit__(exc_type, exc_val, exc_tb) and raised is not None:
            raise raised
        return None

    async def __aenter__(self) -> None:
        if self.direct is None:
            return await super().__aenter__()
        entered = self.entered
        for function, extension, is_async in self.direct:
            gen = function(extension)
            if is_async:
                try:
                    await gen.__anext__()
                except StopAsyncIteration:
                    raise RuntimeError("generator didn't yield") from None
            else:
                try:
                    next(gen)
                except StopIteration:
                    raise RuntimeError("generator didn't yield") from None
            entered.append((gen, is_async))
        return None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        if self.direct is None:
            return await super().__aexit__(exc_type, exc_val, exc_tb)
        entered = self.entered
        if exc_type is None:
            while entered:
                gen, is_async = entered.pop()
                try:
                    if is_async:
                        await gen.__anext__()
                    else:
                        next(gen)
                except (StopIteration, StopAsyncIteration):
                    continue
                except BaseException as error:
                    exc_type, exc_val, exc_tb = type(error), error, error.__traceback__
                    break
                exc_val = RuntimeError("generator didn't stop")
                exc_type, exc_tb = RuntimeError, None
                break
            else:
                return None
            raised = exc_val
        else:
            raised = None
        stack = contextlib.AsyncExitStack()
        for gen, is_async in entered:
            if is_async:
                stack.push_async_exit(_async_shell(gen))
            else:
                stack.push(_sync_shell(gen))
        entered.clear()
        if not await stack.__aexit__(exc_type, exc_val, exc_tb) and raised is not None:
            raise raised
        return None


class Operation(_ClassHooks, OperationContextManager):
    __slots__ = ()


class Validation(_ClassHooks, ValidationContextManager):
    __slots__ = ()


class Parsing(_ClassHooks, ParsingContextManager):
    __slots__ = ()


class Executing(_ClassHooks, ExecutingContextManager):
    __slots__ = ()


# extension classes → the indexes of those whose class answers ``get_results`` (the
# others answer ``{}``)
_with_results: dict[tuple[type[SchemaExtension], ...], tuple[int, ...]] = {}


def _results_of(kinds: tuple[type[SchemaExtension], ...]) -> tuple[int, ...]:
    found = _with_results.get(kinds)
    if found is None:
        found = _with_results[kinds] = tuple(
            i for i, kind in enumerate(kinds) if kind.get_results is not SchemaExtension.get_results
        )
    return found


class ClassHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner with the hooks of each class looked up once: each phase's
    plan (which extensions have the hook, of what kind) is found once per tuple of
    extension classes, and ``get_results`` asked only of the classes that answer it."""

    def __init__(self, execution_context: Any, extensions: list[SchemaExtension]) -> None:
        super().__init__(execution_context=execution_context, extensions=extensions)
        self.kinds: tuple[type[SchemaExtension], ...] = tuple(map(type, self.extensions))

    def operation(self) -> OperationContextManager:
        return Operation(self.extensions, self.kinds)

    def validation(self) -> ValidationContextManager:
        return Validation(self.extensions, self.kinds)

    def parsing(self) -> ParsingContextManager:
        return Parsing(self.extensions, self.kinds)

    def executing(self) -> ExecutingContextManager:
        return Executing(self.extensions, self.kinds)

    async def get_extensions_results(self, ctx: Any) -> dict[str, Any]:
        data: dict[str, Any] = {}
        extensions = self.extensions
        for index in _results_of(self.kinds):
            data.update(await await_maybe(extensions[index].get_results()))
        if ctx.extensions_results:
            data.update(ctx.extensions_results)
        return data


# extension classes → the indexes of those that hook field resolution (``resolve``)
_resolving: dict[tuple[type[SchemaExtension], ...], tuple[int, ...]] = {}


def middleware_manager(extensions: list[SchemaExtension]) -> MiddlewareManager:
    """Strawberry's per-operation ``MiddlewareManager`` of the extensions that hook
    ``resolve`` (a class-level answer, found once per tuple of classes)."""
    kinds: tuple[type[SchemaExtension], ...] = tuple(map(type, extensions))
    found = _resolving.get(kinds)
    if found is None:
        found = _resolving[kinds] = tuple(
            i for i, kind in enumerate(kinds) if kind._implements_resolve()
        )
    if not found:
        return MiddlewareManager()
    return MiddlewareManager(*[extensions[i] for i in found])
