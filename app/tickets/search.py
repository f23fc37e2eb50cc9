"""Full-text search of tickets: the tickets whose number, title, description or readable comments match a
search box's text, each with its score (higher is better), as a subquery a ticket list joins.

PostgreSQL matches the stored tsvector columns with websearch_to_tsquery and scores with ts_rank; SQLite matches
its FTS5 tables (the text's stems, app/text_search.py) and scores with bm25. A match in a comment counts half of
one in the ticket itself. This and app/tickets/search_index.py are the only places that speak each database's
own search dialect.
"""

import re

from sqlalchemy import Float, Integer, Select, column, func, literal, literal_column, select, table, union_all
from sqlalchemy.sql import Subquery

from app import text_search
from app.tickets.models import Comment, Ticket

COMMENT_WEIGHT = 0.5
_NUMBER = re.compile(r"^(INC|REQ|PRB)\d{7}$", re.IGNORECASE)
_ticket_fts = table("ticket_fts", column("rowid", Integer))
_comment_fts = table("ticket_comment_fts", column("rowid", Integer))


def matches(*, dialect: str, text: str, internal: bool) -> Subquery | None:
    """(ticket_id, score) of every ticket the text finds; internal comments count when internal. None when the
    text holds nothing to search for (only punctuation, say): no ticket is found then."""
    parts = _postgresql(text, internal) if dialect == "postgresql" else _sqlite(text, internal)
    if parts is None:
        return None
    word = text.strip()
    if _NUMBER.match(word):  # a ticket's number typed whole finds it first
        exact = select(Ticket.id.label("ticket_id"), literal(1000.0, Float).label("score"))
        parts.append(exact.where(Ticket.number == word.upper()))
    hits = union_all(*parts).subquery("hits")
    return select(hits.c.ticket_id, func.max(hits.c.score).label("score")).group_by(hits.c.ticket_id).subquery("found")


def _postgresql(text: str, internal: bool) -> list[Select] | None:
    query = func.websearch_to_tsquery(literal_column(f"'{text_search.language()}'::regconfig"), text[:5000])
    in_ticket = literal_column("ticket.search")
    in_comment = literal_column("ticket_comment.search")
    tickets = select(Ticket.id.label("ticket_id"), func.ts_rank(in_ticket, query).label("score")).where(
        in_ticket.op("@@")(query)
    )
    comments = select(
        Comment.ticket_id.label("ticket_id"), (func.ts_rank(in_comment, query) * COMMENT_WEIGHT).label("score")
    ).where(in_comment.op("@@")(query))
    if not internal:
        comments = comments.where(Comment.visibility == "public")
    # Only words to leave out find nothing, as on SQLite (not every ticket without them).
    return [tickets, comments] if text_search.fts5_query(text) else None


def _sqlite(text: str, internal: bool) -> list[Select] | None:
    query = text_search.fts5_query(text)
    if query is None:
        return None
    ticket_match = literal_column("ticket_fts").op("MATCH")(query)
    comment_match = literal_column("ticket_comment_fts").op("MATCH")(query)
    # bm25 is lower for a better match (and negative): its opposite is a score.
    tickets = select(
        _ticket_fts.c.rowid.label("ticket_id"), (-func.bm25(literal_column("ticket_fts"))).label("score")
    ).where(ticket_match)
    comments = (
        select(
            Comment.ticket_id.label("ticket_id"),
            (-func.bm25(literal_column("ticket_comment_fts")) * COMMENT_WEIGHT).label("score"),
        )
        .select_from(_comment_fts)
        .join(Comment, Comment.id == _comment_fts.c.rowid)
        .where(comment_match)
    )
    if not internal:
        comments = comments.where(Comment.visibility == "public")
    return [tickets, comments]
