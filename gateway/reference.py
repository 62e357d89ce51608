"""The generated references of the documentation site, made from the code itself so they
cannot drift from it: the configuration table (the ``Settings`` class), the error codes
(every error enum and message table, Chinese and English), the schema reference
(``schema.graphql``'s descriptions) and the command line (the CLI's own help).

``docs/hooks/reference.py`` adds these pages to the site at build time (``make docs``);
nothing generated is committed. ``python -m gateway.reference DIR`` writes them to a
directory, to read them without building the site.
"""

from __future__ import annotations

import enum
import importlib
import pkgutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    get_named_type,
)
from pydantic.fields import FieldInfo

from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}
# packages whose ``errors`` modules hold the domain's error enums
ERROR_PACKAGES = ("levels", "auth")
# codes the gateway gives before (or around) GraphQL: module → its (zh, en) table
GATEWAY_MESSAGE_TABLES = ("gateway.http", "gateway.limits", "gateway.persisted")


def _cell(text: str) -> str:
    """Text fit for one cell of a Markdown table."""
    return " ".join(text.split()).replace("|", "\\|")


# ---------------------------------------------------------------------------- settings


def env_names(name: str, field: FieldInfo) -> list[str]:
    """The environment variables that set one settings field."""
    alias = field.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return [str(choice) for choice in choices]
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return [f"{prefix}{name}".upper()]


def default_text(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "default_text" in extra:
        return str(extra["default_text"])
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    else:
        value = field.default
    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        value = str(value).lower()
    if isinstance(value, Path) and value.is_absolute() and value.is_relative_to(ROOT):
        value = value.relative_to(ROOT).as_posix()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def undescribed_settings() -> list[str]:
    return [name for name, field in Settings.model_fields.items() if not field.description]


def configuration_table() -> str:
    """One row per settings field: its variable(s), default and meaning."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        names = " / ".join(f"`{env}`" for env in env_names(name, field))
        rows.append(
            f"| {names} | {_cell(default_text(field))} | {_cell(field.description or '')} |"
        )
    return "\n".join(rows) + "\n"


def configuration_markdown() -> str:
    intro = [
        "# Configuration reference",
        "",
        "Generated from `gateway/settings.py` when the site is built: every setting, the",
        "environment variable that sets it (or a line of a `.env` file in the working",
        "directory), its default and what it does. See [Configuration]"
        "(../operations/configuration.md) for how they fit together.",
        "",
    ]
    return "\n".join(intro) + "\n" + configuration_table()


# ------------------------------------------------------------------------------ errors


def error_enums() -> list[type[enum.Enum]]:
    """Every enum of error codes: an ``errors`` module's enums whose members know their
    messages (Chinese, English)."""
    found: list[type[enum.Enum]] = []
    for package_name in ERROR_PACKAGES:
        package = importlib.import_module(package_name)
        modules = [package_name + ".errors"] + [
            f"{info.name}.errors"
            for info in pkgutil.walk_packages(package.__path__, package_name + ".")
            if info.ispkg
        ]
        for module_name in modules:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as missing:
                if missing.name == module_name:
                    continue
                raise
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, enum.Enum)
                    and value.__module__ == module_name
                    and callable(getattr(value, "messages", None))
                    and value not in found  # a module may bind one enum to two names
                ):
                    found.append(value)
    return found


def error_rows() -> Iterator[tuple[str, str, str, str]]:
    """(code, 中文, English, where) for every error code the hub gives."""
    for codes in error_enums():
        where = f"{codes.__module__}.{codes.__name__}"
        for member in codes:
            zh, en = member.messages()  # type: ignore[attr-defined]
            yield str(member.value), zh, en, where
    for module_name in GATEWAY_MESSAGE_TABLES:
        table: dict[str, tuple[str, str]] = importlib.import_module(module_name).MESSAGES
        for code, (zh, en) in table.items():
            yield code, zh, en, module_name


def errors_markdown() -> str:
    rows = [
        "# Error codes",
        "",
        "Generated from the error enums (`levels/*/errors.py`, `auth/errors.py`) and the",
        "gateway's message tables when the site is built. A query's error carries the code in",
        "`extensions.code`; a mutation's payload error in `errors { code field message }`. The",
        "message is Chinese by default and English with `Accept-Language: en`; `{limit}` and",
        "`{value}` are filled in. A code that several domains share is listed once per domain.",
        "",
        "| code | 中文 | English | defined in |",
        "|---|---|---|---|",
    ]
    for code, zh, en, where in sorted(error_rows()):
        rows.append(f"| `{code}` | {_cell(zh)} | {_cell(en)} | `{where}` |")
    return "\n".join(rows) + "\n"


# ------------------------------------------------------------------------------ schema


def sdl_schema(sdl: str | None = None) -> GraphQLSchema:
    return build_schema(sdl or (ROOT / "schema.graphql").read_text(encoding="utf-8"))


def _public_types(schema: GraphQLSchema) -> list[GraphQLNamedType]:
    return [
        t
        for name, t in sorted(schema.type_map.items())
        if not name.startswith("__") and name not in BUILT_IN_SCALARS
    ]


def undescribed(schema: GraphQLSchema) -> list[str]:
    """Every public type and field (of objects, interfaces and inputs) with no description."""
    missing = []
    for t in _public_types(schema):
        if not t.description:
            missing.append(t.name)
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            missing += [f"{t.name}.{name}" for name, f in t.fields.items() if not f.description]
    return missing


def _type_link(type_: Any) -> str:
    named = get_named_type(type_)
    text = str(type_)
    if named.name in BUILT_IN_SCALARS:
        return f"`{text}`"
    return f"[`{text}`](#{named.name})"


def _field_rows(fields: dict[str, GraphQLField] | dict[str, GraphQLInputField]) -> list[str]:
    rows = ["| field | type | description |", "|---|---|---|"]
    for name, f in fields.items():
        described = f.description or ""
        args = getattr(f, "args", None) or {}
        if args:
            listed = ", ".join(
                f"`{arg}: {a.type}`" + (f" — {a.description}" if a.description else "")
                for arg, a in args.items()
            )
            described += f" Arguments: {listed}."
        if f.deprecation_reason:
            described += f" **Deprecated**: {f.deprecation_reason}"
        rows.append(f"| `{name}` | {_type_link(f.type)} | {_cell(described)} |")
    return rows


def schema_markdown(sdl: str | None = None) -> str:
    schema = sdl_schema(sdl)
    kinds: list[tuple[str, Callable[[GraphQLNamedType], bool]]] = [
        ("Operations", lambda t: t.name in ("Query", "Mutation", "Subscription")),
        ("Objects", lambda t: isinstance(t, GraphQLObjectType)),
        ("Interfaces and unions", lambda t: isinstance(t, GraphQLInterfaceType | GraphQLUnionType)),
        ("Inputs", lambda t: isinstance(t, GraphQLInputObjectType)),
        ("Enums", lambda t: isinstance(t, GraphQLEnumType)),
        ("Scalars", lambda t: isinstance(t, GraphQLScalarType)),
    ]
    out = [
        "# GraphQL schema",
        "",
        "Generated from the committed SDL, [`schema.graphql`](#), when the site is built",
        "(`make schema-check` keeps that file equal to the code). Every type and field has a",
        "description; a test fails on one that has none.",
        "",
    ]
    done: set[str] = set()
    for title, belongs in kinds:
        out += [f"## {title}", ""]
        for t in _public_types(schema):
            if t.name in done or not belongs(t):
                continue
            done.add(t.name)
            out += [f"### {t.name} {{#{t.name}}}", "", t.description or "", ""]
            if isinstance(t, GraphQLObjectType | GraphQLInterfaceType):
                if isinstance(t, GraphQLObjectType) and t.interfaces:
                    names = ", ".join(_type_link(i) for i in t.interfaces)
                    out += [f"Implements {names}.", ""]
                out += [*_field_rows(t.fields), ""]
            elif isinstance(t, GraphQLInputObjectType):
                out += [*_field_rows(t.fields), ""]
            elif isinstance(t, GraphQLUnionType):
                out += ["One of " + ", ".join(_type_link(m) for m in t.types) + ".", ""]
            elif isinstance(t, GraphQLEnumType):
                out += ["| value | description |", "|---|---|"]
                for name, value in t.values.items():
                    out.append(f"| `{name}` | {_cell(value.description or '')} |")
                out.append("")
    return "\n".join(out).replace("[`schema.graphql`](#)", "`schema.graphql`") + "\n"


# --------------------------------------------------------------------------------- CLI


def cli_command() -> click.Command:
    """The ``govhub`` command as click sees it (a typer app is converted)."""
    from gateway import cli

    main: Any = cli.main
    if isinstance(main, click.Command):
        return main
    typer_main = importlib.import_module("typer.main")
    command: click.Command = typer_main.get_command(main)
    return command


def _walk(
    command: click.Command, parent: click.Context | None, name: str
) -> Iterator[tuple[str, click.Context]]:
    # the command's own context settings (its -h): click caches the help option of a
    # command the first time it is asked for, so a context without them would take -h
    # away from the command for the rest of the process
    settings = {**command.context_settings, "terminal_width": 88}
    ctx = click.Context(command, info_name=name, parent=parent, **settings)
    ctx.max_content_width = 88
    yield ctx.command_path, ctx
    if isinstance(command, click.Group):
        for sub in command.list_commands(ctx):
            child = command.get_command(ctx, sub)
            if child is not None and not child.hidden:
                yield from _walk(child, ctx, sub)


def cli_markdown() -> str:
    out = [
        "# Command line",
        "",
        "Generated from the `govhub` command's own help when the site is built: what",
        "`govhub COMMAND --help` prints, for every command.",
        "",
    ]
    for path, ctx in _walk(cli_command(), None, "govhub"):
        out += [f"## `{path}`", "", "```text", ctx.get_help().rstrip(), "```", ""]
    return "\n".join(out)


# ------------------------------------------------------------------------------- pages


# markers a hand-written page may hold, replaced by generated text when the site is built
MARKERS: dict[str, Callable[[], str]] = {
    "<!-- generated: configuration-table -->": configuration_table,
}


def fill_markers(markdown: str) -> str:
    for marker, make in MARKERS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown


def pages() -> dict[str, str]:
    """The generated pages, by their path under ``docs/reference/``."""
    return {
        "configuration.md": configuration_markdown(),
        "errors.md": errors_markdown(),
        "schema.md": schema_markdown(),
        "cli.md": cli_markdown(),
    }


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "site/reference-md")
    target.mkdir(parents=True, exist_ok=True)
    for page, text in pages().items():
        (target / page).write_text(text, encoding="utf-8")
        print(target / page)
