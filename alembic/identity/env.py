"""Alembic environment of the identity chain. GovHub passes an open connection in
``config.attributes["connection"]`` (see levels/common/migrate.py)."""

from alembic import context
from levels.common.migrate import target_metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata("identity"),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
