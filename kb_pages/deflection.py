"""The new-ticket form's session, as far as deflection counting needs it.

Each rendering of the form carries a signed token naming one form session. "This answered
my question" sends it back, so however often the button is pressed (or the page is
reloaded from cache) a form counts once; the signature carries the tenant's schema, so a
token made on one tenant's portal is worthless on another's.

Tickets live in the helpdesk, which kb_pages must not import: the deflection rate asks
the functions registered under ``PORTAL_TICKET_COUNTS_HOOK`` (a Wagtail hook) for the
number of tickets opened on the portal per month.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from django.core import signing

from tenants.context import current_schema_name

TOKEN_SALT = "kb_pages.deflection.form"
TOKEN_MAX_AGE = dt.timedelta(days=1)
TOKEN_MAX_LENGTH = 300

# fn(since: datetime) -> {first day of the month (date): tickets opened on the portal}
PORTAL_TICKET_COUNTS_HOOK = "kb_pages_portal_tickets_by_month"
PortalTicketCounts = Callable[[dt.datetime], dict[dt.date, int]]


def _salt() -> str:
    return f"{TOKEN_SALT}:{current_schema_name()}"


def form_token_new() -> str:
    """A token for one rendering of the new-ticket form, in the current tenant."""
    return signing.dumps(uuid.uuid4().hex, salt=_salt(), compress=False)


def form_key_from_token(token: str) -> str | None:
    """The form session a token names, or None when it is forged, expired, or another
    tenant's."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    try:
        key = signing.loads(token, salt=_salt(), max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    return key if isinstance(key, str) and len(key) == 32 else None
