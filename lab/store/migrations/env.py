"""Alembic environment of the lab store: run the migrations on the connection it is handed.

`lab.store.revisions` passes its connection in `config.attributes["connection"]`, already inside the one
transaction the whole upgrade runs in (it commits or rolls back there). Without one (Alembic's own command
line, with `sqlalchemy.url` set), a connection is made from the URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

from lab.store.schema import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,  # what `alembic revision --autogenerate` compares against
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
        transactional_ddl=True,  # SQLite included: `lab.store.revisions` opens a real transaction for DDL
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=Base.metadata,
                          literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)
        connection.commit()


_main()
