"""The helpdesk's view of a customer: their profile and the organisation they belong to.

A customer joins an organisation by the domain of a verified address: an organisation
lists its domains (``Organisation.email_domains``) and a customer whose confirmed address
is at exactly one of them joins it. An organisation already on a profile is never
replaced here: an admin may have set it by hand.
"""

from __future__ import annotations

from collections.abc import Iterable

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from accounts.models import Role, User
from helpdesk.email_domains import clean_domain, is_shared
from helpdesk.models import CustomerProfile, Organisation, Ticket


def email_domain(email: str) -> str:
    """``Someone@Acme.COM`` -> ``acme.com``; "" without an ``@``."""
    local, at, domain = (email or "").strip().rpartition("@")
    return domain.rstrip(".").lower() if at and local else ""


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
        organisation=organisation
    )
    if joined:
        profile.organisation = organisation
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
        at_domain |= Q(email__iendswith=f"@{domain}")  # "@" first: no "evil-acme.com"
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
    return CustomerProfile.objects.filter(user_id__in=user_ids, organisation__isnull=True).update(
        organisation=organisation
    )
