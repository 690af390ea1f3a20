"""Rules for subdomains: what a signup may claim."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

SLUG_MIN, SLUG_MAX = 3, 30
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")

# Hosts we use ourselves, hosts people mistake for ours, and names that invite phishing.
RESERVED_SLUGS = frozenset(
    """
    www www1 www2 admin administrator api app apps assets auth billing blog cdn console
    dashboard demo-admin dev docs download email ftp help helpdesk host imap internal
    localhost login logout mail media mx news ns ns1 ns2 pop pop3 portal postmaster public
    root secure security signup smtp ssl static staff stage staging status store support
    system test tenant tenants template tenant-template pool webmail webhooks ws wss
    """.split()
)


# Persian (U+06F0..) and Arabic-Indic (U+0660..) digits typed on those keyboards.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def normalise_slug(value: str) -> str:
    return (value or "").strip().lower().translate(_DIGITS)


def validate_slug(value: str) -> None:
    """Raise ValidationError (translated) if ``value`` is not a claimable subdomain."""
    if not SLUG_MIN <= len(value) <= SLUG_MAX:
        raise ValidationError(
            _("A subdomain must be between %(min)d and %(max)d characters long."),
            code="length",
            params={"min": SLUG_MIN, "max": SLUG_MAX},
        )
    if not SLUG_RE.match(value) or "--" in value:
        raise ValidationError(
            _(
                "Use only lowercase English letters, digits and single hyphens, "
                "starting and ending with a letter or digit."
            ),
            code="characters",
        )
    if value in RESERVED_SLUGS:
        raise ValidationError(_("This subdomain is reserved."), code="reserved")
