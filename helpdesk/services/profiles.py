"""The helpdesk's view of a customer: their profile and the organisation they belong to.

A customer joins an organisation by the domain of a verified address: an organisation
lists its domains (``Organisation.email_domains``) and a customer whose confirmed address
is at exactly one of them joins it. An organisation already on a profile is never
replaced here: an admin may have set it by hand.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import idna
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.services import user_create
from helpdesk.email_domains import clean_domain, is_shared
from helpdesk.models import CustomerProfile, Organisation, Ticket


def email_domain(email: str) -> str:
    """``Someone@Acme.COM`` -> ``acme.com``; "" without an ``@``."""
    local, at, domain = (email or "").strip().rpartition("@")
    return clean_domain(domain) if at and local else ""


def _spellings(domain: str) -> set[str]:
    """A cleaned domain as an address may spell it: ``xn--mnchen-3ya.de``, ``münchen.de``."""
    try:
        return {domain, idna.decode(domain)}
    except (idna.IDNAError, UnicodeError):
        return {domain}


def _is_customer(user: User) -> bool:
    return user.role == Role.CUSTOMER and not user.is_staff and not user.is_superuser


def _domains_by_organisation(*, exclude_pk: int | None = None) -> dict[int, set[str]]:
    # Read in Python: the array holds what the admin typed (any case, "@acme.com"),
    # and a tenant has tens or hundreds of organisations with domains, not millions.
    rows = Organisation.objects.exclude(email_domains=[])
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    # A shared domain (gmail.com) saved before the form refused it joins nobody.
    return {
        pk: {domain for value in domains if not is_shared(domain := clean_domain(value))} - {""}
        for pk, domains in rows.values_list("pk", "email_domains")
    }


def organisation_for_domain(*, domain: str) -> Organisation | None:
    """The one organisation listing ``domain`` exactly (no subdomains, no lookalikes).

    Two organisations listing the same domain is ambiguous: nobody joins by it, an
    admin decides.
    """
    domain = clean_domain(domain)
    if not domain:
        return None
    matches = [pk for pk, domains in _domains_by_organisation().items() if domain in domains]
    if len(matches) != 1:
        return None
    return Organisation.objects.filter(pk=matches[0]).first()


def _verified_address(user: User) -> bool:
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


@transaction.atomic
def customer_profile_ensure(*, user: User) -> CustomerProfile | None:
    """The customer's profile, made if missing; joins their domain's organisation.

    Staff get none (None). A profile with an organisation keeps it. Only a verified
    address joins an organisation: anyone may type ``ceo@acme.com`` into a signup form.
    Safe to call any number of times.
    """
    if not _is_customer(user):
        return None
    profile, _created = CustomerProfile.objects.get_or_create(user=user)
    if profile.organisation_id is not None or not _verified_address(user):
        return profile
    organisation = organisation_for_domain(domain=email_domain(user.email))
    if organisation is None:
        return profile
    # Only while still empty: an organisation set meanwhile (an admin's) stays.
    joined = CustomerProfile.objects.filter(pk=profile.pk, organisation__isnull=True).update(
        organisation=organisation, sees_organisation_tickets=False
    )
    if joined:
        profile.organisation = organisation
        profile.sees_organisation_tickets = False
    else:
        profile.refresh_from_db(fields=["organisation"])
    return profile


@transaction.atomic
def guest_tickets_claim(*, user: User, email: str) -> int:
    """Requests made as a guest with ``email`` become the account's, now that it proved
    the address (allauth's confirmation): they appear in the customer's own list.
    Returns how many. Tickets of other accounts and staff are never touched."""
    if not _is_customer(user) or not email:
        return 0
    guest = Ticket.objects.filter(requester__isnull=True, requester_email=email.strip().lower())
    profile = CustomerProfile.objects.filter(user=user).first()
    if profile is not None and profile.organisation_id is not None:
        guest.filter(organisation__isnull=True).update(organisation=profile.organisation_id)
    return guest.update(requester=user)


@transaction.atomic
def organisation_members_attach(
    *, organisation: Organisation, previous_domains: Iterable[str] = ()
) -> int:
    """Customers at a domain newly listed on ``organisation`` join it; returns how many.

    Only domains added now count, so saving an organisation again never pulls back a
    customer an admin took out of it. Customers with an organisation keep it, unverified
    addresses join nobody, and a domain another organisation lists too joins nobody.
    Four queries, whatever the number of customers.
    """
    added = {clean_domain(value) for value in organisation.email_domains or []} - {""}
    added = {domain for domain in added if not is_shared(domain)}
    added -= {clean_domain(value) for value in previous_domains}
    if not added:
        return 0
    for domains in _domains_by_organisation(exclude_pk=organisation.pk).values():
        added -= domains
    if not added:
        return 0
    at_domain = Q()
    for domain in sorted(added):
        for spelling in _spellings(domain):  # "@" first: no "evil-acme.com"
            at_domain |= Q(email__iendswith=f"@{spelling}")
    verified = EmailAddress.objects.filter(
        user=OuterRef("pk"), email__iexact=OuterRef("email"), verified=True
    )
    user_ids = list(
        User.objects.filter(at_domain, Exists(verified), role=Role.CUSTOMER)
        .filter(is_staff=False, is_superuser=False)
        .filter(customer_profile__organisation__isnull=True)  # also: no profile yet
        .values_list("pk", flat=True)
    )
    if not user_ids:
        return 0
    CustomerProfile.objects.bulk_create(
        [CustomerProfile(user_id=pk) for pk in user_ids], ignore_conflicts=True
    )
    # Joining by domain never lets anyone read colleagues' tickets: an admin gives that.
    return CustomerProfile.objects.filter(user_id__in=user_ids, organisation__isnull=True).update(
        organisation=organisation, sees_organisation_tickets=False
    )


# --- the desk's and integrations' edits (REST API) ---------------------------------------

CUSTOMER_FIELDS = frozenset(
    {"name", "language", "organisation", "is_vip", "sees_organisation_tickets"}
)


def _language_check(language: str) -> None:
    if language and language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationError(
            {"language": [_("Choose one of: %(codes)s.") % {"codes": _language_codes()}]},
            code="language",
        )


def _language_codes() -> str:
    return ", ".join(code for code, _name in settings.LANGUAGES)


@transaction.atomic
def customer_create(*, email: str, changes: Mapping[str, Any]) -> User:
    """A customer account made for someone by the desk or a CRM's sync.

    No password until they set one ("forgot password" on the portal). The address is
    not confirmed, so its domain joins no organisation: only the one given here, by a
    manager, does. ``changes``: any of CUSTOMER_FIELDS.
    """
    # Stored as the portal's signup stores it (lower-cased, as typed), so every path finds
    # the same person. Full-width or other compatibility letters are refused: mail to
    # ``agent@ａｌｐｈａ.test`` reaches ``agent@alpha.test``, a colleague's mailbox.
    email = (email or "").strip().lower()
    try:
        if unicodedata.normalize("NFKC", email) != email:
            raise ValidationError("compatibility characters")
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            {"email": [_("Enter a valid email address.")]}, code="email"
        ) from None
    taken = ValidationError(
        {"email": [_("Someone with this address has an account already.")]}, code="exists"
    )
    # Lower-cased on both sides: the unique index on LOWER(email) answers it.
    in_use = User.objects.alias(lowered=Lower("email")).filter(lowered=email).exists() or (
        EmailAddress.objects.alias(lowered=Lower("email")).filter(lowered=email).exists()
    )
    if in_use:
        raise taken
    _language_check(changes.get("language", ""))
    try:
        with transaction.atomic():  # another request made it meanwhile: the same answer
            user = user_create(
                email=email,
                password=None,
                name=changes.get("name", ""),
                language=changes.get("language", ""),
            )
    except IntegrityError:
        raise taken from None
    customer_update(
        customer=user, changes={k: v for k, v in changes.items() if k not in ("name", "language")}
    )
    return user


@transaction.atomic
def customer_update(*, customer: User, changes: Mapping[str, Any]) -> CustomerProfile:
    """Name, language, organisation (an Organisation or None), VIP and "sees the
    organisation's tickets" of a customer; all of them or, when one is refused, none.
    A change of organisation or of what they see closes their portal sockets."""
    unknown = set(changes) - CUSTOMER_FIELDS
    if unknown:  # pragma: no cover - the API's schema names the fields
        raise ValueError(f"not customer fields: {sorted(unknown)}")
    if not _is_customer(customer):
        raise ValidationError(_("Only customers have a customer profile."), code="not_customer")
    if "language" in changes:
        _language_check(changes["language"])
    user_fields = [f for f in ("name", "language") if f in changes]
    for field in user_fields:
        setattr(customer, field, changes[field] or "")
    if user_fields:
        others = [f.name for f in User._meta.fields if f.name not in user_fields]
        customer.full_clean(exclude=others, validate_unique=False)
        customer.save(update_fields=user_fields)
    profile, _created = CustomerProfile.objects.select_for_update().get_or_create(user=customer)
    organisation_before = profile.organisation_id
    profile_fields = [
        f for f in ("organisation", "is_vip", "sees_organisation_tickets") if f in changes
    ]
    for field in profile_fields:
        setattr(profile, field, changes[field])
    if "organisation" in changes and "sees_organisation_tickets" not in changes:
        # Another organisation (or none): reading its tickets is given anew, not carried.
        if profile.organisation_id != organisation_before:
            profile.sees_organisation_tickets = False
            profile_fields.append("sees_organisation_tickets")
    if profile.sees_organisation_tickets and profile.organisation_id is None:
        raise ValidationError(
            {
                "sees_organisation_tickets": [
                    _("Only a member of an organisation can see its tickets.")
                ]
            },
            code="no_organisation",
        )
    if profile_fields:
        profile.save(update_fields=profile_fields)  # its signal closes sockets if needed
    return profile


ORGANISATION_FIELDS = frozenset({"name", "is_vip", "email_domains"})


@transaction.atomic
def organisation_save(*, organisation: Organisation, changes: Mapping[str, Any]) -> Organisation:
    """Create (an unsaved ``organisation``) or change one, with the admin form's rules:
    the name required, and only domains that say who a customer works for (see
    ``Organisation.clean``). Customers at a newly listed domain join it."""
    for field, value in changes.items():
        if field not in ORGANISATION_FIELDS:  # pragma: no cover - the API's schema
            raise ValueError(f"not an organisation field: {field}")
        setattr(organisation, field, value)
    organisation.full_clean()
    organisation.save()
    return organisation
