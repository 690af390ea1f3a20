"""Full-text search over tickets on PostgreSQL, with Persian/Arabic folding.

Documents and queries are tokenised in Python (helpdesk.text) and handed to PostgreSQL
as lexeme arrays (``array_to_tsvector``) and quoted tsquery lexemes, so matching never
depends on the server's locale or text-search parser.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchVectorField
from django.db import connection
from django.db.models.expressions import RawSQL

from helpdesk.references import clean_reference
from helpdesk.text import query_tokens, tokenize

MAX_QUERY_TOKENS = 8


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


EMAIL = re.compile(r"[^@\s]+@[\w-]+(?:\.[\w-]+)+")


def tsquery_for(text: str) -> str | None:
    """``'a' & 'b':*`` for the words typed (the last one as a prefix), or None.

    A pasted email address or tracking code is searched as its own exact lexeme: its
    pieces ('com', 'gmail') would make the index read most of the table.
    """
    tokens = query_tokens(text)[:MAX_QUERY_TOKENS]
    if not tokens:
        return None
    if EMAIL.fullmatch(tokens[0]) or clean_reference(text.strip()):
        return _lexeme(tokens[0])
    parts = [_lexeme(t) for t in tokens]
    parts[-1] += ":*"
    return " & ".join(parts)


DOCUMENT_SQL = "setweight(array_to_tsvector(%s::text[]), 'A') || array_to_tsvector(%s::text[])"


def ticket_document_expression(*, headline: str, body: str) -> RawSQL:
    """The document as an SQL value, to be written with the row that owns it."""
    return RawSQL(
        DOCUMENT_SQL, [tokenize(headline), tokenize(body)], output_field=SearchVectorField()
    )


def ticket_document_set(*, ticket_id: int, headline: str, body: str) -> None:
    """Replace a ticket's document: ``headline`` (subject, code, requester) weighs more."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE helpdesk_ticket SET search_document = {DOCUMENT_SQL} WHERE id = %s",
            [tokenize(headline), tokenize(body), ticket_id],
        )


def ticket_document_append(*, ticket_id: int, text: str) -> None:
    """Add a new message's words without re-reading the whole conversation."""
    tokens = tokenize(text)
    if not tokens:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE helpdesk_ticket SET search_document = "
            "coalesce(search_document, ''::tsvector) || array_to_tsvector(%s::text[]) "
            "WHERE id = %s",
            [tokens, ticket_id],
        )
