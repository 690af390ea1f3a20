"""Custom domains: a tenant's own host names (``help.acme.com``) next to its platform host.

Domain rows live in the public schema; every read and write here enters it explicitly,
so these functions work the same from a tenant's request, a task or a shell.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from tenants.context import public_schema
from tenants.models import Domain, Tenant

logger = logging.getLogger(__name__)

# More than enough for brands with a few regional portals; keeps a compromised admin
# account from parking thousands of names on us.
CUSTOM_DOMAINS_MAX = 5
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*://")


@dataclass(frozen=True)
class DnsRecord:
    """The record a tenant creates at its DNS provider so the domain reaches us."""

    name: str
    type: str
    value: str


def platform_host(tenant: Tenant) -> str:
    """The host every tenant has on our base domain; custom domains point at it."""
    return f"{tenant.slug}.{settings.BASE_DOMAIN}"


def dns_record_for(*, tenant: Tenant, domain: str) -> DnsRecord:
    return DnsRecord(name=domain, type="CNAME", value=platform_host(tenant))


def normalise_domain(value: str) -> str:
    """What people paste (``https://Help.Acme.com/``, ``hjälp.se.``) as a bare ASCII host."""
    host = (value or "").strip().lower()
    host = _SCHEME_RE.sub("", host).rstrip("/").rstrip(".")
    try:
        # Internationalised names are stored as the punycode the Host header carries.
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def validate_custom_domain(domain: str) -> None:
    """Raise a translated ValidationError unless ``domain`` may be added by a tenant.

    Checks the shape only; whether another tenant holds it is :func:`domain_add`'s job.
    """
    if not domain:
        raise ValidationError(_("Enter a domain name."), code="required")
    try:
        ipaddress.ip_address(domain.strip("[]"))
    except ValueError:
        pass
    else:
        raise ValidationError(
            _("Enter a domain name such as help.example.com, not an IP address."), code="ip"
        )
    base = settings.BASE_DOMAIN.lower()
    user_content = getattr(settings, "USER_CONTENT_HOST", "")
    if user_content and (domain == user_content or domain.endswith("." + user_content)):
        raise ValidationError(
            _("%(domain)s is reserved for this service. Enter a domain your organisation owns."),
            code="platform",
            params={"domain": domain},
        )
    if domain == base or domain.endswith(f".{base}"):
        raise ValidationError(
            _(
                "Addresses on %(base)s are ours. Enter a domain your organisation owns, "
                "such as help.example.com."
            ),
            code="platform",
            params={"base": base},
        )
    labels = domain.split(".")
    if (
        len(domain) > 253
        or any(c in domain for c in "/:@?#* ")
        or len(labels) < 2
        or not all(_LABEL_RE.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValidationError(
            _("“%(domain)s” is not a valid domain name. Enter one such as help.example.com."),
            code="invalid",
            params={"domain": domain},
        )


def domains_for_tenant(*, tenant: Tenant) -> list[Domain]:
    """The tenant's host names, its platform host first."""
    with public_schema():
        return list(Domain.objects.filter(tenant_id=tenant.pk).order_by("-is_primary", "domain"))


@transaction.atomic
def domain_add(*, tenant: Tenant, domain: str) -> Domain:
    """Connect ``domain`` to ``tenant``: from now on requests for it are served its helpdesk.

    Refused (translated ValidationError) when malformed, on our own base domain, already
    used by any tenant, or past the per-tenant limit.
    """
    domain = normalise_domain(domain)
    validate_custom_domain(domain)
    with public_schema():
        # One add at a time per tenant, so two at once cannot both pass the limit.
        Tenant.objects.select_for_update().filter(pk=tenant.pk).values_list("pk").first()
        owner = Domain.objects.filter(domain=domain).values_list("tenant_id", flat=True).first()
        if owner == tenant.pk:
            raise ValidationError(
                _("%(domain)s is already connected to your helpdesk."),
                code="duplicate",
                params={"domain": domain},
            )
        if owner is not None:
            raise ValidationError(
                _("%(domain)s is already in use. Choose another domain."),
                code="taken",
                params={"domain": domain},
            )
        custom = Domain.objects.filter(tenant_id=tenant.pk, is_primary=False).count()
        if custom >= CUSTOM_DOMAINS_MAX:
            raise ValidationError(
                _("A helpdesk can have at most %(max)d custom domains."),
                code="limit",
                params={"max": CUSTOM_DOMAINS_MAX},
            )
        try:
            # A concurrent add of the same name loses on the unique index, not silently.
            with transaction.atomic():
                added = Domain.objects.create(domain=domain, tenant=tenant, is_primary=False)
        except IntegrityError:
            raise ValidationError(
                _("%(domain)s is already in use. Choose another domain."),
                code="taken",
                params={"domain": domain},
            ) from None
    # Operators watch for these: a new name needs a TLS certificate at the proxy.
    logger.info("custom domain %s added for %s", domain, tenant.schema_name)
    return added


@transaction.atomic
def domain_remove(*, tenant: Tenant, domain_id: int) -> None:
    """Disconnect one of the tenant's custom domains; its platform host always stays."""
    with public_schema():
        domain = Domain.objects.filter(pk=domain_id, tenant_id=tenant.pk).first()
        if domain is None:
            raise ValidationError(
                _("This domain is not connected to your helpdesk."), code="missing"
            )
        if domain.is_primary:
            raise ValidationError(
                _("The helpdesk's own address on %(base)s cannot be removed."),
                code="primary",
                params={"base": settings.BASE_DOMAIN},
            )
        domain.delete()
    logger.info("custom domain %s removed from %s", domain.domain, tenant.schema_name)
