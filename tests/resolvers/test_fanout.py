"""Which failures make a node "unavailable" (a partial result) and which are bugs."""

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

from resolvers.fanout import _unavailable


class PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        self.sqlstate = sqlstate


def test_connection_failures_mean_unavailable() -> None:
    assert _unavailable(OperationalError("connect", {}, Exception("unable to open")))
    assert _unavailable(ConnectionRefusedError())
    assert _unavailable(TimeoutError())
    assert _unavailable(DBAPIError("connect", {}, PgError("3D000")))  # no such database
    assert _unavailable(DBAPIError("q", {}, PgError("57P01")))  # admin shutdown
    assert _unavailable(DBAPIError("q", {}, PgError("08006")))  # connection failure


def test_bugs_are_not_hidden_as_unavailable_nodes() -> None:
    assert not _unavailable(ProgrammingError("select nope", {}, PgError("42P01")))
    assert not _unavailable(IntegrityError("insert", {}, PgError("23505")))
    assert not _unavailable(ValueError("bug"))
