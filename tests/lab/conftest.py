"""Store back ends for the tests: `store_url` runs a test on SQLite and on PostgreSQL.

PostgreSQL runs when `LAB_TEST_POSTGRES_URL` names a database the tests may create schemas in
(`.ci/postgres.sh start` prints one); each test gets a fresh schema, dropped after it.
"""

from __future__ import annotations

import os
import uuid
from typing import Iterator

import pytest

from lab.store import sqlite_url

#: The environment variable naming the test PostgreSQL database.
POSTGRES_ENV = "LAB_TEST_POSTGRES_URL"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path) -> Iterator[str]:
    """The URL of a store that does not exist yet: a SQLite file in `tmp_path`, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "lab.sqlite")
        return
    with postgres_schema() as url:
        yield url


def postgres_base_url() -> str:
    """The test database's URL, or skip the test."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set (no PostgreSQL server to test against; see .ci/postgres.sh)")
    return url


class postgres_schema:  # noqa: N801 - used as a context manager, like a function
    """A fresh schema of the test database: enter for a URL whose tables go there; exit drops it."""

    def __init__(self) -> None:
        self.name = f"t_{uuid.uuid4().hex[:16]}"
        self._base = postgres_base_url()

    def __enter__(self) -> str:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        self._admin = create_engine(self._base, poolclass=NullPool)
        with self._admin.begin() as c:
            c.execute(text(f"CREATE SCHEMA {self.name}"))
        url = make_url(self._base).update_query_dict({"options": f"-csearch_path={self.name}"})
        return url.render_as_string(hide_password=False)

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import text

        with self._admin.begin() as c:
            c.execute(text("SET LOCAL lock_timeout = '20s'"))  # a leaked open transaction fails the drop, never hangs
            c.execute(text(f"DROP SCHEMA {self.name} CASCADE"))
        self._admin.dispose()
