"""Alembic environment: the URL comes from the caller (``govdata migrate``) or GOVDATA_*."""

from alembic import context

from govdata.core.config import get_settings
from govdata.core.db import make_engine
from govdata.models import metadata

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url()
    engine = make_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


def _include(obj, name, type_, reflected, compare_to) -> bool:
    # The catalog's search index (FTS5 / tsvector) is created by hand in its migration.
    return not (type_ == "table" and name and name.startswith("catalog_fts"))


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=_include,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `govdata migrate`")
run_migrations()
