"""The full-text index of tickets and their comments, as the database keeps it.

PostgreSQL: a stored generated tsvector column on ticket (number and title weighted A, description B) and one on
ticket_comment, each with a GIN index, so every writer keeps them up to date. SQLite: FTS5 tables of stems
(ticket_fts, whose rowid is the ticket's id, and ticket_comment_fts, the comment's), kept by triggers that call
flowdesk_stems (app/text_search.py). Migration 0019 builds them; `flowdesk search reindex` builds them again in
the language FLOWDESK_SEARCH_LANGUAGE names now.
"""

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import text_search

TICKET_TEXT = "coalesce({p}number, '') || ' ' || coalesce({p}title, '') || ' ' || coalesce({p}description, '')"
TOKENIZER = "tokenize = 'unicode61 remove_diacritics 2'"
# The ticket list's order by priority, most urgent first; migration 0019 indexes it with created_at.
PRIORITY_RANK = (
    "CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END"
)


# Open tickets (in none of the done statuses of app/tickets/queries.py), written out so that the ticket list's
# condition is the predicate of migration 0021's index of open tickets by resolution target.
DONE = ("Resolved", "Closed", "Cancelled", "Rejected")
OPEN_TICKET = "status NOT IN (" + ", ".join(f"'{s}'" for s in DONE) + ")"


def postgresql_columns(language: str) -> list[str]:
    """The statements that add the two generated columns and their indexes, stemming in language."""
    if language not in text_search.LANGUAGES:
        raise ValueError(f"no text search language {language!r}")
    parts = [("number", "A"), ("title", "A"), ("description", "B")]
    vector = " || ".join(f"setweight(to_tsvector('{language}', coalesce({c}, '')), '{w}')" for c, w in parts)
    comment = f"to_tsvector('{language}', coalesce(body, ''))"
    return [
        f"ALTER TABLE ticket ADD COLUMN search tsvector GENERATED ALWAYS AS ({vector}) STORED",
        "CREATE INDEX ix_ticket_search ON ticket USING gin (search)",
        f"ALTER TABLE ticket_comment ADD COLUMN search tsvector GENERATED ALWAYS AS ({comment}) STORED",
        "CREATE INDEX ix_ticket_comment_search ON ticket_comment USING gin (search)",
    ]


POSTGRESQL_DROP = [
    "DROP INDEX IF EXISTS ix_ticket_comment_search",
    "ALTER TABLE ticket_comment DROP COLUMN IF EXISTS search",
    "DROP INDEX IF EXISTS ix_ticket_search",
    "ALTER TABLE ticket DROP COLUMN IF EXISTS search",
]


def sqlite_tables() -> list[str]:
    return [
        f"CREATE VIRTUAL TABLE ticket_fts USING fts5(body, {TOKENIZER})",
        f"CREATE VIRTUAL TABLE ticket_comment_fts USING fts5(body, {TOKENIZER})",
    ]


def sqlite_triggers() -> list[str]:
    old_ticket = "DELETE FROM ticket_fts WHERE rowid = old.id;"
    stems = f"flowdesk_stems({TICKET_TEXT.format(p='new.')})"
    new_ticket = f"INSERT INTO ticket_fts (rowid, body) VALUES (new.id, {stems});"  # noqa: S608 - constants only
    old_comment = "DELETE FROM ticket_comment_fts WHERE rowid = old.id;"
    new_comment = "INSERT INTO ticket_comment_fts (rowid, body) VALUES (new.id, flowdesk_stems(new.body));"
    return [
        f"CREATE TRIGGER ticket_fts_insert AFTER INSERT ON ticket BEGIN {new_ticket} END",
        "CREATE TRIGGER ticket_fts_update AFTER UPDATE OF number, title, description ON ticket "
        f"BEGIN {old_ticket} {new_ticket} END",
        f"CREATE TRIGGER ticket_fts_delete AFTER DELETE ON ticket BEGIN {old_ticket} END",
        f"CREATE TRIGGER ticket_comment_fts_insert AFTER INSERT ON ticket_comment BEGIN {new_comment} END",
        "CREATE TRIGGER ticket_comment_fts_update AFTER UPDATE OF body ON ticket_comment "
        f"BEGIN {old_comment} {new_comment} END",
        f"CREATE TRIGGER ticket_comment_fts_delete AFTER DELETE ON ticket_comment BEGIN {old_comment} END",
    ]


SQLITE_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS {t}_{e}"
        for t in ("ticket_fts", "ticket_comment_fts")
        for e in ("insert", "update", "delete")
    ),  # noqa: E501
    "DROP TABLE IF EXISTS ticket_fts",
    "DROP TABLE IF EXISTS ticket_comment_fts",
]


def sqlite_refill() -> list[str]:
    """Index every ticket and comment again (the stems of the language configured now)."""
    return [
        "DELETE FROM ticket_fts",
        "DELETE FROM ticket_comment_fts",
        f"INSERT INTO ticket_fts (rowid, body) SELECT id, flowdesk_stems({TICKET_TEXT.format(p='')}) FROM ticket",  # noqa: S608
        "INSERT INTO ticket_comment_fts (rowid, body) SELECT id, flowdesk_stems(body) FROM ticket_comment",
    ]


def build(dialect: str) -> list[str]:
    """The statements that build the index from nothing on this dialect."""
    if dialect == "postgresql":
        return postgresql_columns(text_search.language())
    return [*sqlite_tables(), *sqlite_triggers(), *sqlite_refill()]


def reindex(db: Session) -> int:
    """Build the index again in the language configured now; the number of tickets indexed."""
    dialect = db.get_bind().dialect.name
    for statement in [*(POSTGRESQL_DROP if dialect == "postgresql" else SQLITE_DROP), *build(dialect)]:
        db.execute(text(statement))
    return db.execute(text("SELECT count(*) FROM ticket")).scalar_one()
