"""The list read paths fetch Core rows with statements built once; a list of keys is one
SQL text whatever its length on PostgreSQL (``= ANY``), so asyncpg prepares it once per
pooled connection instead of once per list length."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from gateway.nodes import NodeRegistry
from levels.common import reads
from levels.common.enums import Level
from levels.common.models import ImplementationMaterial as Material
from levels.common.models import MatterImplementation


def test_a_key_list_is_one_sql_text_on_postgresql_and_in_elsewhere() -> None:
    statement = reads._MATERIALS_BY_IMPL
    on_postgres = str(statement.compile(dialect=postgresql.dialect()))
    assert "= ANY (%(codes)s" in on_postgres and "POSTCOMPILE" not in on_postgres
    assert "IN (__[POSTCOMPILE_codes])" in str(statement.compile(dialect=sqlite.dialect()))


async def test_core_reads_answer_the_orms_rows_for_lists_of_any_length(
    nodes: NodeRegistry,
) -> None:
    async with nodes[Level.COUNTY].sessions() as session:
        stmt = select(MatterImplementation.code).order_by(MatterImplementation.code).limit(3)
        codes = list(await session.scalars(stmt))
        assert len(codes) == 3
        for some in (codes[:1], codes):
            got = await reads.materials_by_implementation(some, session=session)
            orm = await session.scalars(
                select(Material)
                .where(Material.implementation_code.in_(some))
                .order_by(Material.implementation_code, Material.position)
            )
            want = [(m.implementation_code, m.position, m.name, m.form) for m in orm]
            assert (
                want and [(r.implementation_code, r.position, r.name, r.form) for r in got] == want
            )
        assert list(await reads.materials_by_implementation([], session=session)) == []


async def test_a_read_row_answers_as_the_core_row_it_was_made_from(nodes: NodeRegistry) -> None:
    """``rows()`` makes each ``Row`` a named tuple of its columns: attributes, indexes,
    ``_fields``, ``_asdict()`` and ``_mapping`` answer as the ``Row``'s."""
    stmt = reads._IMPLS_BY_DIVISION
    params = {"codes": ["140702000000"]}
    async with nodes[Level.COUNTY].sessions() as session:
        made = await reads.rows(session, stmt, params)
        conn = await session.connection()
        core = (await conn.execute(stmt, params)).all()
    assert len(made) == len(core) > 3
    for row, original in zip(made, core, strict=True):
        assert isinstance(row, reads.ColumnsRow) and not isinstance(original, reads.ColumnsRow)
        assert tuple(row) == tuple(original) and row[2] == original[2]
        assert row._fields == original._fields
        assert row._asdict() == original._asdict() == row._mapping == dict(original._mapping)
        assert all(getattr(row, k) == getattr(original, k) for k in original._fields)


def test_columns_a_named_tuple_cannot_name_stay_core_rows() -> None:
    assert reads._row_type(("code", "code")) is None
    assert reads._row_type(("code", "name")) is not None
