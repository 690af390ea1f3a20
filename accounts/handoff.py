"""Signing a new owner in on their tenant's host right after signing up on the public host.

Cookies are per host, so the public site cannot set the tenant's session. It hands the
browser a signed, short-lived, single-use token instead: the token names the schema and
the user and carries the user's ``last_login``, which the sign-in itself changes, so the
same token never works twice.
"""

from __future__ import annotations

from django.core import signing

from accounts.models import User

SALT = "accounts.handoff"
MAX_AGE_SECONDS = 120


def handoff_token(*, user: User, schema_name: str) -> str:
    last_login = user.last_login.isoformat() if user.last_login else ""
    return signing.dumps({"s": schema_name, "u": user.pk, "l": last_login}, salt=SALT)


def handoff_user(*, token: str, schema_name: str) -> User | None:
    """The user the token names, if it is valid for this schema and still unused."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if data.get("s") != schema_name:
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None:
        return None
    last_login = user.last_login.isoformat() if user.last_login else ""
    return user if last_login == data.get("l") else None
