"""Selectors for the tenant's customers and organisations, as the desk and the REST API
read them: pages in id order, found by name or address."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.models import Role, User
from helpdesk.models import Organisation

MAX_PAGE = 200


@dataclass
class Page:
    items: list
    next_after: int | None  # the last id of this page when there is another


def _page(query: QuerySet, *, after: int | None, limit: int) -> Page:
    if after is not None:
        query = query.filter(pk__gt=after)
    rows = list(query.order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].pk if more else None)


def customers(*, q: str = "", organisation_id: int | None = None) -> QuerySet[User]:
    """Customer accounts, with profile and organisation; ``q`` in the name or address."""
    people = User.objects.filter(role=Role.CUSTOMER, is_staff=False, is_superuser=False)
    if q:
        people = people.filter(Q(email__icontains=q) | Q(name__icontains=q))
    if organisation_id is not None:
        people = people.filter(customer_profile__organisation_id=organisation_id)
    return people.select_related("customer_profile__organisation")


def customers_page(
    *, q: str = "", organisation_id: int | None = None, after: int | None = None, limit: int = 50
) -> Page:
    return _page(customers(q=q, organisation_id=organisation_id), after=after, limit=limit)


def customer_get(pk: int) -> User | None:
    return customers().filter(pk=pk).first()


def organisations_page(*, q: str = "", after: int | None = None, limit: int = 50) -> Page:
    query = Organisation.objects.all()
    if q:
        query = query.filter(name__icontains=q)
    return _page(query, after=after, limit=limit)
