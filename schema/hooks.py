"""Strawberry's extension hooks, looked up once per extension class instead of once per
operation.

For every operation Strawberry asks each of the schema's ~12 extensions for each of its
four hooks (operation, parse, validate, execute): it inspects the hook (generator? async
generator?) and wraps it in a fresh ``contextlib`` decorator, ``functools.update_wrapper``
included, before entering it. The answer depends on the class alone, so here it is found
once per class and hook; each operation then only binds its extension instance. The
hooks are entered and left exactly as Strawberry does (its exit stacks, its order)."""

from __future__ import annotations

import contextlib
import inspect
from functools import partial
from typing import Any

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

# (extension class, hook name) → (context manager factory, is async), None for a class
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
        found = (contextlib.contextmanager(hook), False)
    elif inspect.isasyncgenfunction(hook):
        found = (contextlib.asynccontextmanager(hook), True)
    else:
        found = STRAWBERRY
    _found[key] = found
    return found


class _ClassHooks(ExtensionContextManagerBase):
    def __init__(self, extensions: list[SchemaExtension]) -> None:
        self.hooks: list[WrappedHook] = []
        self.default_hook = getattr(SchemaExtension, self.HOOK_NAME)
        name = self.HOOK_NAME
        for extension in extensions:
            found = _found.get((type(extension), name), _found)
            if found is _found:
                found = _lookup(type(extension), name)
            if found is None:
                continue
            if found is STRAWBERRY:
                hook = super().get_hook(extension)
                if hook is not None:
                    self.hooks.append(hook)
                continue
            make, is_async = found
            self.hooks.append(WrappedHook(extension, partial(make, extension), is_async))


class Operation(_ClassHooks, OperationContextManager):
    __slots__ = ()


class Validation(_ClassHooks, ValidationContextManager):
    __slots__ = ()


class Parsing(_ClassHooks, ParsingContextManager):
    __slots__ = ()


class Executing(_ClassHooks, ExecutingContextManager):
    __slots__ = ()


class ClassHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner with the hooks of each class looked up once."""

    def operation(self) -> OperationContextManager:
        return Operation(self.extensions)

    def validation(self) -> ValidationContextManager:
        return Validation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return Parsing(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return Executing(self.extensions)
