"""catalog search: every resource row (and open catalog entry) stamped at each write (``search_seq``;
PostgreSQL also the writing transaction, ``search_xid``), so that the search's columns in memory know
what changed; on PostgreSQL the index's terms as a position-free ``tsvector`` (tokens and trigrams)
under GIN, its wide columns kept out of line (see govdata.catalog.search)

Revision ID: 0021
Revises: 0020
Create Date: 2027-01-04 09:00:00
"""

import sqlalchemy as sa
from alembic import op

from govdata.catalog.search.text import lexemes

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# the tables whose rows the search keeps in memory: the catalog's resources, and the open catalog's
# entries (the public search's restriction)
STAMPED = ("catalog_resources", "open_entries")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        op.execute("CREATE SEQUENCE search_stamp_seq")
        op.execute(
            "CREATE FUNCTION search_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "NEW.search_seq := nextval('search_stamp_seq'); NEW.search_xid := pg_current_xact_id(); "
            "RETURN NEW; END $$"
        )
    for table in STAMPED:
        (_stamp_sqlite if sqlite else _stamp_postgresql)(table)
    if not sqlite:
        _terms_postgresql()


def _stamp_sqlite(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ADD COLUMN search_seq INTEGER NOT NULL DEFAULT 0")
    op.execute(f"UPDATE {table} SET search_seq = id")
    op.execute(f"CREATE INDEX ix_{table}_search_seq ON {table} (search_seq)")
    # SQLite writes one transaction at a time, so one more than the largest stamp is never taken
    # twice by committed rows; the nested UPDATE does not fire the triggers again
    stamp = f"UPDATE {table} SET search_seq = (SELECT coalesce(max(search_seq), 0) + 1 FROM {table}) WHERE id = NEW.id"
    op.execute(f"CREATE TRIGGER {table}_stamp_insert AFTER INSERT ON {table} BEGIN {stamp}; END")
    op.execute(
        f"CREATE TRIGGER {table}_stamp_update AFTER UPDATE ON {table} "
        f"WHEN NEW.search_seq = OLD.search_seq BEGIN {stamp}; END"
    )


def _stamp_postgresql(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ADD COLUMN search_seq bigint NOT NULL DEFAULT 0, ADD COLUMN search_xid xid8")
    op.execute(f"UPDATE {table} SET search_seq = nextval('search_stamp_seq'), search_xid = pg_current_xact_id()")
    op.execute(f"CREATE INDEX ix_{table}_search_seq ON {table} (search_seq)")
    op.execute(f"CREATE INDEX ix_{table}_search_xid ON {table} (search_xid)")
    op.execute(
        f"CREATE TRIGGER {table}_stamp BEFORE INSERT OR UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION search_stamp()"
    )


def _terms_postgresql() -> None:
    # the documents and their terms out of line: a match's heap tuple is its id, a few dozen bytes
    op.execute("ALTER TABLE catalog_fts SET (toast_tuple_target = 128)")
    op.execute("ALTER TABLE catalog_fts ADD COLUMN terms tsvector")
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT resource_id, grams FROM catalog_fts")).all()
    update = sa.text(
        "UPDATE catalog_fts SET terms = array_to_tsvector(CAST(:terms AS text[])) WHERE resource_id = :id"
    )
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        bind.execute(update, [{"id": rid, "terms": lexemes(grams)} for rid, grams in chunk])
    op.execute("ALTER TABLE catalog_fts ALTER COLUMN terms SET NOT NULL")
    op.execute("DROP INDEX ix_catalog_fts_grams")
    op.execute("CREATE INDEX ix_catalog_fts_terms ON catalog_fts USING gin (terms)")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in STAMPED:
        if sqlite:
            op.execute(f"DROP TRIGGER {table}_stamp_insert")
            op.execute(f"DROP TRIGGER {table}_stamp_update")
            op.execute(f"DROP INDEX ix_{table}_search_seq")
            op.execute(f"ALTER TABLE {table} DROP COLUMN search_seq")
        else:
            op.execute(f"DROP TRIGGER {table}_stamp ON {table}")
            op.execute(f"ALTER TABLE {table} DROP COLUMN search_xid, DROP COLUMN search_seq")
    if sqlite:
        return
    op.execute("DROP FUNCTION search_stamp()")
    op.execute("DROP SEQUENCE search_stamp_seq")
    op.execute("DROP INDEX ix_catalog_fts_terms")
    op.execute("CREATE INDEX ix_catalog_fts_grams ON catalog_fts USING gin (to_tsvector('simple', grams))")
    op.execute("ALTER TABLE catalog_fts DROP COLUMN terms")
    op.execute("ALTER TABLE catalog_fts RESET (toast_tuple_target)")
