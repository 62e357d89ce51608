"""The generated references of the documentation site (gateway/reference.py) hold what
the code holds: every setting with its variable, default and meaning; every error code
with its Chinese and English message; every type and field of the schema with its
description; every command's help. The site is built from them (``make docs``), so a
test here failing is a page that would be wrong or empty."""

from __future__ import annotations

import enum
import re
from pathlib import Path

import click

from gateway import reference
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# variables of the test suite, the benchmarks and the CLI that are not hub settings
NOT_SETTINGS = {
    "GOVHUB_TEST_BACKEND",
    "GOVHUB_TEST_PG",
    "GOVHUB_TEST_REDIS",
    "GOVHUB_TEST_NODE_CALLS",
    "GOVHUB_FUZZ_SCALE",
    "GOVHUB_FAULT_ROUNDS",
    "GOVHUB_UPDATE_SCREENSHOTS",
    "GOVHUB_BENCH_PG",
    "GOVHUB_BENCH_PG_PREFIX",
    "GOVHUB_BENCH_REDIS",
    "GOVHUB_BENCH_WITHOUT",
    "GOVHUB_NEW_PASSWORD",
}


def _docs_text() -> str:
    pages = [
        path.read_text(encoding="utf-8")
        for path in (ROOT / "docs").rglob("*.md")
        if "notes" not in path.relative_to(ROOT / "docs").parts
    ]
    return "\n".join([*pages, (ROOT / "README.md").read_text(encoding="utf-8")])


def test_every_setting_has_a_description() -> None:
    assert reference.undescribed_settings() == []


def test_the_configuration_table_has_a_row_per_setting_with_its_default() -> None:
    table = reference.configuration_table()
    for name, field in Settings.model_fields.items():
        (variable,) = [v for v in reference.env_names(name, field) if v.startswith("GOVHUB_")]
        (row,) = [line for line in table.splitlines() if line.startswith(f"| `{variable}`")]
        assert field.description and reference._cell(field.description) in row
    # the three the hand-written table had left out
    for variable, default in [
        ("GOVHUB_DEFAULT_PAGE_SIZE", "`20`"),
        ("GOVHUB_LICENCE_COPY_MAX_DAYS", "`90`"),
        ("GOVHUB_SQL_ECHO", "`false`"),
    ]:
        assert re.search(rf"^\| `{variable}` \| {default} \| \w", table, flags=re.M), variable
    assert "| `GOVHUB_REDIS_URL` / `REDIS_URL` |" in table
    # a default worked out from the checkout is shown as the path in the repository
    assert "| `GOVHUB_PERSISTED_MANIFEST` | `gateway/trusted_documents.json` |" in table


def test_every_govhub_variable_the_docs_name_is_a_setting() -> None:
    settings = {
        v for name, field in Settings.model_fields.items() for v in reference.env_names(name, field)
    }
    named = set(re.findall(r"GOVHUB_[A-Z0-9_]*[A-Z0-9]", _docs_text()))
    assert named - settings - NOT_SETTINGS == set()


def test_every_error_code_is_in_the_table_with_both_messages() -> None:
    enums = reference.error_enums()
    names = {e.__name__ for e in enums}
    assert {"ErrorCode", "CaseErrorCode", "AuthErrorCode", "LicenceErrorCode"} <= names
    assert len(enums) >= 12
    table = reference.errors_markdown()
    for codes in enums:
        member: enum.Enum
        for member in codes:
            zh, en = member.messages()  # type: ignore[attr-defined]
            assert zh and en and zh != en, member
            row = f"| `{member.value}` | {reference._cell(zh)} | {reference._cell(en)} |"
            assert row in table, member
    # the transport, limit and persisted-query refusals of the gateway
    for code in ("UNSUPPORTED_MEDIA_TYPE", "QUERY_TOO_DEEP", "PERSISTED_QUERY_NOT_FOUND"):
        assert f"| `{code}` |" in table


def test_every_public_type_and_field_of_the_schema_is_described() -> None:
    assert reference.undescribed(reference.sdl_schema()) == []


def test_an_undescribed_field_is_found() -> None:
    sdl = '"""A thing."""\ntype Query {\n  """Described."""\n  a: Int\n  b: Int\n}\n'
    assert reference.undescribed(reference.sdl_schema(sdl)) == ["Query.b"]


def test_the_schema_reference_has_every_type_and_field() -> None:
    schema = reference.sdl_schema()
    page = reference.schema_markdown()
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or name in reference.BUILT_IN_SCALARS:
            continue
        assert f"### {name} {{#{name}}}" in page
        for field in getattr(type_, "fields", {}):
            assert f"| `{field}` |" in page


def test_the_cli_reference_has_every_command_and_its_help() -> None:
    page = reference.cli_markdown()
    main = reference.cli_command()
    assert isinstance(main, click.Group)
    ctx = click.Context(main, info_name="govhub")
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        assert command is not None
        assert f"## `govhub {name}`" in page
        assert (command.get_short_help_str(limit=200) or "").split("…")[0][:30] in page
    assert page.count("Usage: govhub") >= len(main.list_commands(ctx))
