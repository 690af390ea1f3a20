"""Who may see which ticket. Every lookup from user input goes through here.

"Does not exist" and "not yours" answer the same 404, so a tracking code reveals nothing
about tickets one may not see.
"""

from __future__ import annotations

from django.core import signing
from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import User
from helpdesk.models import DepartmentMember, Ticket
from helpdesk.references import clean_reference

GUEST_SALT = "helpdesk.guest-ticket"


def agent_department_ids(user: User) -> list[int]:
    return list(DepartmentMember.objects.filter(user=user).values_list("department_id", flat=True))


def visibility_branches(user: User, *, departments: list[int] | None = None) -> list[Q] | None:
    """The tickets ``user`` may see as filters any of which lets a ticket through (None:
    all tickets). Counting a capped number per branch lets each use its own index; the
    OR of them keeps the planner to one index for both (see selectors.queue_counts).

    ``departments``: the agent's department ids when the caller already read them.
    """
    if not user.is_authenticated or not user.is_active:
        return [Q(pk__in=[])]
    if user.is_manager:
        return None
    if user.is_agent:
        # Department ids first (a handful), so ticket queries need no membership join.
        if departments is None:
            departments = agent_department_ids(user)
        return [Q(department_id__in=departments), Q(assignee=user)]
    branches = [Q(requester=user)]
    profile = getattr(user, "customer_profile", None)
    if profile is not None and profile.sees_organisation_tickets and profile.organisation_id:
        branches.append(Q(organisation_id=profile.organisation_id))
    return branches


def ticket_visibility(user: User, *, departments: list[int] | None = None) -> Q | None:
    """A filter for the tickets ``user`` may see, or None for "all of them"."""
    branches = visibility_branches(user, departments=departments)
    if branches is None:
        return None
    visible = branches[0]
    for branch in branches[1:]:
        visible |= branch
    return visible


def tickets_visible_to(
    user: User,
    queryset: QuerySet[Ticket] | None = None,
    *,
    departments: list[int] | None = None,
) -> QuerySet[Ticket]:
    queryset = Ticket.objects.all() if queryset is None else queryset
    visible = ticket_visibility(user, departments=departments)
    return queryset if visible is None else queryset.filter(visible)


def ticket_get_for_user_or_404(*, user: User, reference: str) -> Ticket:
    code = clean_reference(reference)
    if not code:
        raise Http404
    # Four joins, not six: with the requester and organisation joined too, PostgreSQL
    # spent 2-3 ms planning this one-row lookup (0.5 ms with four); they are read when
    # used, by primary key.
    ticket = (
        tickets_visible_to(user)
        .select_related("department", "category", "status", "assignee")
        .filter(reference=code)
        .first()
    )
    if ticket is None:
        raise Http404
    return ticket


def guest_ticket_token(ticket: Ticket) -> str:
    return signing.dumps({"r": ticket.reference, "e": ticket.requester_email}, salt=GUEST_SALT)


def ticket_get_for_guest_or_404(*, token: str) -> Ticket:
    try:
        data = signing.loads(token, salt=GUEST_SALT)
    except signing.BadSignature as error:
        raise Http404 from error
    ticket = (
        Ticket.objects.select_related("department", "status")
        .filter(reference=data.get("r"), requester_email__iexact=data.get("e", ""))
        .first()
    )
    if ticket is None:
        raise Http404
    return ticket


def ticket_get_by_code_and_email_or_404(*, reference: str, email: str) -> Ticket:
    code = clean_reference(reference)
    ticket = (
        Ticket.objects.filter(reference=code, requester_email__iexact=(email or "").strip())
        .select_related("department", "status")
        .first()
        if code
        else None
    )
    if ticket is None:
        raise Http404
    return ticket
