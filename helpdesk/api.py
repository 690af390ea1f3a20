"""REST API v1 on every tenant host: ``/api/v1/`` (OpenAPI at ``/api/v1/openapi.json``,
interactive docs at ``/api/v1/docs``).

Authentication: ``Authorization: Bearer <token>`` with a token an admin created in
Wagtail's admin (Settings > API tokens; tokens live in the tenant's schema, so a token of
one tenant means nothing on another), or the browser session. The token acts as its
user: the API sees and may do exactly what that person may on the pages.

Every error has one shape: ``{"error": {"code": ..., "message": ..., "fields": {...}}}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import django_auth
from pydantic import ConfigDict, field_validator
from wagtail.api.v3.auth import BearerTokenAuth

from accounts.models import User
from helpdesk import directory, selectors
from helpdesk.access import agent_department_ids, ticket_get_for_user_or_404, tickets_visible_to
from helpdesk.custom_fields import (
    custom_fields_by_department,
    custom_values_clean,
    custom_values_visible,
    customer_visible_keys,
)
from helpdesk.ids import parse_id
from helpdesk.models import (
    Category,
    Channel,
    CustomerProfile,
    CustomField,
    Department,
    DepartmentMember,
    Level,
    Message,
    Organisation,
    Priority,
    Ticket,
    TicketStatus,
)
from helpdesk.services import profiles as profile_services
from helpdesk.services import tickets as ticket_services
from helpdesk.services.tickets import NewTicket

api = NinjaAPI(
    title="Helpdesk API",
    version="1",
    urls_namespace="api-v1",
    auth=[BearerTokenAuth(), django_auth],
    description=__doc__,
)


# --- errors ----------------------------------------------------------------------------


def _error(request, status: int, code: str, message: str, fields: dict | None = None):
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return api.create_response(request, {"error": body}, status=status)


@api.exception_handler(NinjaValidationError)
def _invalid_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [str(p) for p in error.get("loc", [])]
        # ninja's locations start with where the value came from: ("body", "payload", ...).
        if location[:1] and location[0] in ("body", "query", "path", "header"):
            location = location[1:]
        if location[:1] and location[0] in ("payload", "filters"):
            location = location[1:]
        fields.setdefault(".".join(location) or "_", []).append(error.get("msg", "invalid"))
    return _error(request, 422, "invalid", _("The request has invalid fields."), fields)


@api.exception_handler(DjangoValidationError)
def _rejected(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    fields = exc.message_dict if hasattr(exc, "error_dict") else None
    return _error(
        request, 400, getattr(exc, "code", None) or "rejected", " ".join(exc.messages), fields
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, "forbidden", _("You may not do this."))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", _("A valid API token is required."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "error", str(exc))


# --- schemas ---------------------------------------------------------------------------


def _no_nul(value: Any) -> Any:
    """PostgreSQL text holds no NUL: refused here, as a field error, not a server error."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("contains a NUL character")
    if isinstance(value, list | tuple):
        for item in value:
            _no_nul(item)
    return value


class BodyIn(Schema):
    """A request body: a field the endpoint does not know is an error (422 naming it),
    not silently dropped, and no text holds a NUL character."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _text_without_nul(cls, value: Any) -> Any:
        return _no_nul(value)


class DepartmentOut(Schema):
    id: int
    name: str
    slug: str
    is_public: bool


class PersonOut(Schema):
    id: int
    name: str
    email: str


class MessageOut(Schema):
    id: int
    kind: Literal["public", "internal"]
    author_name: str
    author_email: str
    from_staff: bool
    channel: str
    body_text: str
    body_html: str
    created_at: dt.datetime


class TicketOut(Schema):
    """A ticket as the caller may see it. Customers get what the portal shows them: the
    customers' status label, their own custom fields, and null for the desk's fields."""

    reference: str
    subject: str
    department: DepartmentOut
    category: str | None
    status: str
    status_label: str = Field(
        ..., description="The agents' label for agents, the customers' label for customers"
    )
    stage: str
    priority: Literal["low", "medium", "high", "critical"] | None = Field(
        ..., description="null for customers"
    )
    tier: int | None = Field(..., description="null for customers")
    channel: str
    requester_email: str
    requester_name: str
    assignee: PersonOut | None = Field(
        ..., description="null when unassigned, and always for customers"
    )
    tags: list[str] | None = Field(..., description="null for customers")
    custom_fields: dict[str, Any] = Field(
        ..., description="For customers only the fields their department shows customers"
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]


class TicketPageOut(Schema):
    items: list[TicketOut]
    next_cursor: str | None


PRIORITY_NAMES = {p.value: p.name.lower() for p in Priority}
LEVELS = {"low": Level.LOW, "medium": Level.MEDIUM, "high": Level.HIGH}


class TicketIn(BodyIn):
    subject: str = Field(..., min_length=1, max_length=200)
    body: str = Field(..., min_length=1, max_length=50_000)
    department: str = Field(..., description="Department id or slug", max_length=60)
    category: int | None = None
    urgency: Literal["low", "medium", "high"] = "medium"
    impact: Literal["low", "medium", "high"] = "low"
    requester_email: str | None = Field(None, max_length=254)
    requester_name: str = Field("", max_length=150)
    custom_fields: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="The department's custom fields by key: text, number, choice, date "
        "(YYYY-MM-DD) or checkbox (true/false). Customers fill only the fields shown to them.",
    )


class TicketPatch(BodyIn):
    status: str | None = Field(None, max_length=40, description="A status key, e.g. resolved")
    priority: Literal["low", "medium", "high", "critical"] | None = None
    category: int | None = None
    tags: list[str] | None = Field(None, max_length=30)
    assignee: int | None = Field(None, description="Agent id; 0 unassigns")
    department: str | None = Field(None, max_length=60, description="Transfer: id or slug")


class MessageIn(BodyIn):
    body: str = Field(..., min_length=1, max_length=50_000)
    internal: bool = False
    status: str | None = Field(None, max_length=40)


class TicketFiltersIn(Schema):
    queue: Literal["mine", "unassigned", "open", "waiting", "resolved", "all"] = "all"
    stage: Literal["new", "open", "pending", "resolved", "closed"] | None = None
    priority: Literal["low", "medium", "high", "critical"] | None = None
    department: int | None = None
    assignee: int | None = None
    requester: str | None = Field(None, max_length=254)
    tag: str | None = Field(None, max_length=50)
    q: str | None = Field(None, max_length=200)
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    sort: Literal["-updated", "updated", "-created", "created", "-priority"] = "-updated"
    cursor: str | None = Field(None, max_length=500)

    _text_without_nul = field_validator("requester", "tag", "q", "cursor")(_no_nul)


class CustomerOut(Schema):
    id: int
    name: str
    email: str
    language: str = Field(..., description="en, fa or ar; empty: the tenant's default")
    organisation: str | None = Field(..., description="The organisation's name")
    organisation_id: int | None
    is_vip: bool = Field(..., description="The customer's own VIP flag")
    organisation_is_vip: bool = Field(..., description="Their organisation's VIP flag")
    sees_organisation_tickets: bool
    is_active: bool = Field(..., description="false: the account was deactivated")
    date_joined: dt.datetime


class CustomerPageOut(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


LanguageCode = Literal["", "en", "fa", "ar"]


class CustomerPatch(BodyIn):
    name: str | None = Field(None, max_length=150)
    language: LanguageCode | None = None
    organisation_id: int | None = Field(None, description="null: no organisation")
    is_vip: bool | None = None
    sees_organisation_tickets: bool | None = Field(
        None, description="Whether they read their organisation's tickets (members only)"
    )


class CustomerIn(CustomerPatch):
    email: str = Field(..., min_length=3, max_length=254)


class CustomerFiltersIn(Schema):
    q: str | None = Field(None, max_length=100, description="In the name or address")

    _q_without_nul = field_validator("q", "cursor")(_no_nul)
    organisation: int | None = None
    cursor: str | None = Field(None, max_length=20)
    limit: int = Field(50, ge=1, le=directory.MAX_PAGE)


class OrganisationOut(Schema):
    id: int
    name: str
    is_vip: bool
    email_domains: list[str]


class OrganisationPageOut(Schema):
    items: list[OrganisationOut]
    next_cursor: str | None


DomainText = Annotated[str, Field(max_length=120)]


class OrganisationPatch(BodyIn):
    name: str | None = Field(None, min_length=1, max_length=150)
    is_vip: bool | None = None
    email_domains: list[DomainText] | None = Field(
        None,
        max_length=50,
        description="Customers with a confirmed address at one of these domains join it",
    )


class OrganisationIn(BodyIn):
    name: str = Field(..., min_length=1, max_length=150)
    is_vip: bool = False
    email_domains: list[DomainText] = Field(default_factory=list, max_length=50)


class OrganisationFiltersIn(Schema):
    q: str | None = Field(None, max_length=100, description="In the name")

    _q_without_nul = field_validator("q", "cursor")(_no_nul)
    cursor: str | None = Field(None, max_length=20)
    limit: int = Field(50, ge=1, le=directory.MAX_PAGE)


# --- helpers ---------------------------------------------------------------------------


def _ticket_out(ticket: Ticket, *, customer_keys: set[str] | None = None) -> dict[str, Any]:
    """The desk's view of ``ticket``; with ``customer_keys`` (the custom fields a customer
    may see), the portal's: nothing of priority, tier, assignee or tags."""
    out = {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "department": ticket.department,
        "category": ticket.category.name if ticket.category_id else None,
        "status": ticket.status.key,
        "stage": ticket.stage,
        "channel": ticket.channel,
        "requester_email": ticket.requester_email,
        "requester_name": ticket.requester_name,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "first_response_at": ticket.first_response_at,
        "resolved_at": ticket.resolved_at,
    }
    if customer_keys is not None:
        return {
            **out,
            "status_label": ticket.status.customer_label,
            "priority": None,
            "tier": None,
            "assignee": None,
            "tags": None,
            "custom_fields": custom_values_visible(ticket.custom_fields, customer_keys),
        }
    return {
        **out,
        "status_label": ticket.status.agent_label,
        "priority": PRIORITY_NAMES[ticket.priority],
        "tier": ticket.tier,
        "assignee": ticket.assignee if ticket.assignee_id else None,
        "tags": ticket.tags,
        "custom_fields": ticket.custom_fields,
    }


def _tickets_out(user: User, tickets: list[Ticket]) -> list[dict[str, Any]]:
    """``tickets`` as ``user`` may see them (one query for a customer's page)."""
    if user.is_agent:
        return [_ticket_out(ticket) for ticket in tickets]
    keys = customer_visible_keys({ticket.department_id for ticket in tickets})
    return [
        _ticket_out(ticket, customer_keys=keys.get(ticket.department_id, set()))
        for ticket in tickets
    ]


def _department_or_none(value: str) -> Department | None:
    pk = parse_id(value)
    query = (
        Department.objects.filter(pk=pk)
        if pk is not None
        else Department.objects.filter(slug=value)
    )
    # Whether it has custom fields at all, in the same query: most departments have
    # none, and a create then need not read them (_Lookups.custom_fields).
    return query.annotate(
        has_custom_fields=Exists(CustomField.objects.filter(department=OuterRef("pk")))
    ).first()


def _department(value: str) -> Department:
    department = _department_or_none(value)
    if department is None:
        raise DjangoValidationError({"department": [_("No such department.")]}, code="department")
    return department


def _status(key: str) -> TicketStatus:
    status = TicketStatus.objects.filter(key=key).first()
    if status is None:
        raise DjangoValidationError({"status": [_("No such status.")]}, code="status")
    return status


def _agent_only(user: User) -> None:
    if not user.is_agent:
        raise PermissionDenied


def _reload(user: User, reference: str) -> Ticket:
    return ticket_get_for_user_or_404(user=user, reference=reference)


# --- endpoints -------------------------------------------------------------------------


@api.get("/departments", response=list[DepartmentOut], tags=["departments"])
def departments_list(request: HttpRequest):
    departments = Department.objects.all()
    if not request.user.is_agent:
        departments = departments.filter(is_public=True)
    return list(departments)


@api.get("/tickets", response=TicketPageOut, tags=["tickets"])
def tickets_list(request: HttpRequest, filters: Query[TicketFiltersIn]):
    priority = {v: k for k, v in PRIORITY_NAMES.items()}.get(filters.priority or "")
    page = selectors.desk_tickets(
        user=request.user,
        fields=selectors.API_LIST_FIELDS,
        filters=selectors.TicketFilters(
            queue=filters.queue if request.user.is_agent else "all",
            stages=[filters.stage] if filters.stage else [],
            priorities=[priority] if priority else [],
            department_id=filters.department,
            assignee_id=filters.assignee,
            requester=filters.requester or "",
            tag=filters.tag or "",
            q=filters.q or "",
            created_from=filters.created_from,
            created_to=filters.created_to,
            sort=filters.sort,
            cursor=filters.cursor or "",
        ),
    )
    return {"items": _tickets_out(request.user, page.tickets), "next_cursor": page.next_cursor}


class _Lookups:
    """Departments, categories, custom fields and requesters a create by ``user`` needs:
    read for one ticket, or read once for a whole batch (``preload``)."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.departments: dict[str, Department] | None = None
        self.categories: dict[int, Category] | None = None
        self.people: dict[str, User] | None = None
        self.fields: dict[int, list[CustomField]] | None = None
        self._own_departments: set[int] | None = None

    def preload(self, payloads: list[TicketIn]) -> None:
        self.departments = {}
        for department in Department.objects.all():
            self.departments[str(department.pk)] = self.departments[department.slug] = department
        self.fields = custom_fields_by_department(
            {d.pk for d in self.departments.values()}, staff=self.user.is_agent
        )
        wanted = {p.category for p in payloads if p.category is not None}
        self.categories = {c.pk: c for c in Category.objects.filter(pk__in=wanted)}
        emails = {(p.requester_email or "").strip().lower() for p in payloads}
        self.people = {
            u.email.lower(): u
            for u in User.objects.select_related("customer_profile").filter(email__in=emails - {""})
        }

    def department(self, value: str) -> Department:
        if self.departments is None:
            return _department(value)
        department = self.departments.get(value)
        if department is None:
            raise DjangoValidationError(
                {"department": [_("No such department.")]}, code="department"
            )
        return department

    def category(self, pk: int, department: Department) -> Category | None:
        if self.categories is None:
            return Category.objects.filter(pk=pk, department=department).first()
        category = self.categories.get(pk)
        return category if category and category.department_id == department.pk else None

    def person(self, email: str) -> User | None:
        if self.people is None:
            # The profile (their organisation) comes along: the ticket row needs it.
            return User.objects.select_related("customer_profile").filter(email=email).first()
        return self.people.get(email)

    def custom_fields(self, department: Department) -> list[CustomField]:
        """The fields ``user`` may fill in ``department`` (a customer's: the visible ones)."""
        if self.fields is None:
            if getattr(department, "has_custom_fields", True) is False:
                return []
            self.fields = custom_fields_by_department([department.pk], staff=self.user.is_agent)
        return self.fields.get(department.pk, [])

    def may_file_into(self, department: Department) -> bool:
        if self.user.is_manager:
            return True
        if not self.user.is_agent:
            return department.is_public
        if self._own_departments is None:
            self._own_departments = set(agent_department_ids(self.user))
        return department.pk in self._own_departments


def _new_ticket(user: User, payload: TicketIn, lookups: _Lookups) -> NewTicket:
    """What the payload asks for, checked against what ``user`` may do; every rejected
    field at once (a ValidationError keyed by field: ``custom_fields.<key>``)."""
    department = lookups.department(payload.department)
    if not lookups.may_file_into(department):
        if not user.is_agent:  # an internal department does not exist for a customer
            raise DjangoValidationError(
                {"department": [_("No such department.")]}, code="department"
            )
        raise DjangoValidationError(
            {"department": [_("You may file only into your own departments.")]},
            code="department",
        )
    errors: dict[str, list[str]] = {}
    category = None
    if payload.category is not None:
        category = lookups.category(payload.category, department)
        if category is None:
            errors["category"] = [_("No such category here.")]
    custom_values: dict[str, Any] = {}
    try:
        custom_values = custom_values_clean(
            fields=lookups.custom_fields(department), values=payload.custom_fields
        )
    except DjangoValidationError as error:
        for key, messages in error.message_dict.items():
            errors[f"custom_fields.{key}"] = messages
    requester, email = user, ""
    if user.is_agent:
        # Integrators create tickets on behalf of customers, identified by email.
        email = (payload.requester_email or "").strip().lower()
        if not email:
            errors["requester_email"] = [_("Required when an agent's token creates a ticket.")]
        else:
            try:
                validate_email(email)
            except DjangoValidationError:
                errors["requester_email"] = [_("Enter a valid email address.")]
            else:
                requester = lookups.person(email)
                if requester is not None and requester.is_agent:
                    requester = None
    if errors:
        raise DjangoValidationError(errors)
    return NewTicket(
        subject=payload.subject,
        body_text=payload.body,
        department=department,
        category=category,
        urgency=LEVELS[payload.urgency],
        impact=LEVELS[payload.impact],
        channel=Channel.API,
        requester=requester,
        requester_email=email,
        requester_name=payload.requester_name,
        custom_fields=custom_values,
        created_by=user if user.is_agent else None,
    )


@api.post("/tickets", response={201: TicketDetailOut}, tags=["tickets"])
def tickets_create(request: HttpRequest, payload: TicketIn):
    """Open one ticket. An agent's token files only into the agent's departments (a
    customer's for the customer, into public departments), so the caller can read it."""
    user: User = request.user
    opened = ticket_services.ticket_open(_new_ticket(user, payload, _Lookups(user)))
    # The caller may see what they filed: answer from the rows just written.
    return Status(201, _detail_of(user, opened.ticket, messages=[opened.message]))


class TicketBatchIn(BodyIn):
    tickets: list[TicketIn] = Field(..., min_length=1, max_length=ticket_services.MAX_BATCH)


class TicketBatchOut(Schema):
    items: list[TicketOut]


@api.post("/tickets/batch", response={201: TicketBatchOut}, tags=["tickets"])
def tickets_create_batch(request: HttpRequest, payload: TicketBatchIn):
    """Up to 100 tickets in one call, all or none (imports, integrations).

    Agents and managers only; an agent files only into their own departments. A
    rejected item is named in the error's ``fields``: ``tickets.3.subject``.
    """
    user: User = request.user
    _agent_only(user)
    lookups = _Lookups(user)
    lookups.preload(payload.tickets)
    items, errors = [], {}
    for index, item in enumerate(payload.tickets):
        try:
            new = _new_ticket(user, item, lookups)
        except DjangoValidationError as error:
            for field, messages in error.message_dict.items():
                errors[f"tickets.{index}.{field}"] = messages
            continue
        try:  # the service's own checks (subject, body), so one answer names every problem
            ticket_services.ticket_check(new)
        except DjangoValidationError as error:
            errors[f"tickets.{index}"] = error.messages
            continue
        items.append(new)
    if errors:
        raise DjangoValidationError(errors, code="invalid_item")
    try:
        opened = ticket_services.tickets_open_many(items)
    except DjangoValidationError as error:  # the service's own checks, keyed by item
        raise DjangoValidationError(
            {
                f"tickets.{index}": messages
                for index, messages in getattr(error, "message_dict", {"_": error.messages}).items()
            },
            code="invalid_item",
        ) from error
    return Status(201, {"items": _tickets_out(user, [o.ticket for o in opened])})


def _messages_out(user: User, messages) -> list:
    """Messages as ``user`` may see them: a customer sees agents' names, as on the portal,
    not their addresses."""
    if user.is_agent:
        return list(messages)
    out = []
    for message in messages:
        row = MessageOut.from_orm(message).model_dump()
        if message.from_staff:
            row["author_email"] = ""
        out.append(row)
    return out


def _detail(user: User, reference: str) -> dict[str, Any]:
    return _detail_of(user, _reload(user, reference))


def _detail_of(
    user: User, ticket: Ticket, *, messages: list[Message] | None = None
) -> dict[str, Any]:
    out = _tickets_out(user, [ticket])[0]
    out["messages"] = _messages_out(
        user,
        messages
        if messages is not None
        else selectors.ticket_conversation(ticket=ticket, include_internal=user.is_agent),
    )
    return out


@api.get("/tickets/{reference}", response=TicketDetailOut, tags=["tickets"])
def tickets_read(request: HttpRequest, reference: str):
    return _detail(request.user, reference)


@api.patch("/tickets/{reference}", response=TicketDetailOut, tags=["tickets"])
def tickets_update(request: HttpRequest, reference: str, payload: TicketPatch):
    """Change fields, assign, transfer: all of it or, when any value is rejected, none.

    With ``department`` the ticket moves first; ``category`` and ``assignee`` then belong
    to the department it moves to.
    """
    user: User = request.user
    _agent_only(user)
    ticket = _reload(user, reference)
    fields = payload.dict(exclude_unset=True)
    errors: dict[str, list[str]] = {}
    department = ticket.department
    if payload.department:
        found = _department_or_none(payload.department)
        if found is None:
            errors["department"] = [_("No such department.")]
        else:
            department = found
    changes: dict[str, Any] = {}
    if "status" in fields and payload.status:
        changes["status"] = TicketStatus.objects.filter(key=payload.status).first()
        if changes["status"] is None:
            errors["status"] = [_("No such status.")]
    if payload.priority:
        changes["priority"] = {v: k for k, v in PRIORITY_NAMES.items()}[payload.priority]
    if "category" in fields:
        changes["category"] = None
        if payload.category is not None:
            changes["category"] = Category.objects.filter(
                pk=payload.category, department=department
            ).first()
            if changes["category"] is None:
                errors["category"] = [_("No such category here.")]
    if payload.tags is not None:
        changes["tags"] = payload.tags
    assignee = None
    if "assignee" in fields and payload.assignee:
        assignee = User.objects.filter(pk=payload.assignee, is_active=True).first()
        if assignee is None or not assignee.is_agent:
            errors["assignee"] = [_("No such agent.")]
        elif not (
            assignee.is_manager
            or DepartmentMember.objects.filter(user=assignee, department=department).exists()
        ):
            errors["assignee"] = [_("This agent does not work in the ticket's department.")]
    if errors:
        raise DjangoValidationError(errors)
    transfer = department.pk != ticket.department_id
    with transaction.atomic():  # one request, one change: a failing step undoes the others
        if transfer:
            ticket_services.ticket_transfer(ticket=ticket, actor=user, department=department)
        if changes:
            ticket_services.ticket_update(ticket=ticket, actor=user, **changes)
        if "assignee" in fields:
            ticket_services.ticket_assign(ticket=ticket, actor=user, assignee=assignee)
    if transfer and not tickets_visible_to(user).filter(pk=ticket.pk).exists():
        # Moved out of their reach: what they changed, without the conversation.
        return {**_ticket_out(Ticket.objects.get(pk=ticket.pk)), "messages": []}
    return _detail(user, ticket.reference)


@api.get("/tickets/{reference}/messages", response=list[MessageOut], tags=["messages"])
def messages_list(request: HttpRequest, reference: str):
    ticket = _reload(request.user, reference)
    return _messages_out(
        request.user,
        selectors.ticket_conversation(ticket=ticket, include_internal=request.user.is_agent),
    )


@api.post("/tickets/{reference}/messages", response={201: MessageOut}, tags=["messages"])
def messages_create(request: HttpRequest, reference: str, payload: MessageIn):
    user: User = request.user
    ticket = _reload(user, reference)
    message = ticket_services.ticket_reply(
        ticket=ticket,
        author=user,
        body_text=payload.body,
        internal=payload.internal,
        set_status=_status(payload.status) if payload.status and user.is_agent else None,
        channel=Channel.API,
    )
    return Status(201, message)


# --- customers and organisations -------------------------------------------------------
# Agents read them (the desk's customer sidebar says as much); managers and admins change
# them (in Wagtail's Customers screen only admins do): an organisation is what lets a
# customer's manager read colleagues' tickets, so an agent's token may not hand that out.


def _manager_only(user: User) -> None:
    if not user.is_manager:
        raise PermissionDenied


def _after(cursor: str | None) -> int | None:
    if not cursor:
        return None
    after = parse_id(cursor)
    if after is None:
        raise DjangoValidationError(
            {"cursor": [_("Not a cursor this API gave: use next_cursor as it came.")]},
            code="cursor",
        )
    return after


def _customer_out(person: User) -> dict[str, Any]:
    profile: CustomerProfile | None = getattr(person, "customer_profile", None)
    organisation = profile.organisation if profile and profile.organisation_id else None
    return {
        "id": person.pk,
        "name": person.name,
        "email": person.email,
        "language": person.language,
        "organisation": organisation.name if organisation else None,
        "organisation_id": organisation.pk if organisation else None,
        "is_vip": bool(profile and profile.is_vip),
        "organisation_is_vip": bool(organisation and organisation.is_vip),
        "sees_organisation_tickets": bool(profile and profile.sees_organisation_tickets),
        "is_active": person.is_active,
        "date_joined": person.date_joined,
    }


def _customer_or_404(customer_id: str) -> User:
    pk = parse_id(customer_id)
    person = directory.customer_get(pk) if pk is not None else None
    if person is None:
        raise Http404
    return person


def _customer_changes(payload: Schema) -> dict[str, Any]:
    # null means "none" only for the organisation; elsewhere it is no change.
    changes = {
        key: value
        for key, value in payload.dict(exclude_unset=True).items()
        if value is not None or key == "organisation_id"
    }
    changes.pop("email", None)
    if "organisation_id" in changes:
        pk = changes.pop("organisation_id")
        organisation = Organisation.objects.filter(pk=pk).first() if pk is not None else None
        if pk is not None and organisation is None:
            raise DjangoValidationError(
                {"organisation_id": [_("No such organisation.")]}, code="organisation"
            )
        changes["organisation"] = organisation
    return changes


@api.get("/customers", response=CustomerPageOut, tags=["customers"])
def customers_list(request: HttpRequest, filters: Query[CustomerFiltersIn]):
    """Customer accounts in id order; ``q`` finds a name or address, ``organisation``
    an organisation's members. Agents and managers."""
    _agent_only(request.user)
    page = directory.customers_page(
        q=filters.q or "", organisation_id=filters.organisation,
        after=_after(filters.cursor), limit=filters.limit,
    )  # fmt: skip
    return {
        "items": [_customer_out(person) for person in page.items],
        "next_cursor": str(page.next_after) if page.next_after else None,
    }


@api.get("/customers/{customer_id}", response=CustomerOut, tags=["customers"])
def customers_read(request: HttpRequest, customer_id: str):
    _agent_only(request.user)
    return _customer_out(_customer_or_404(customer_id))


@api.post("/customers", response={201: CustomerOut}, tags=["customers"])
def customers_create(request: HttpRequest, payload: CustomerIn):
    """A customer account for someone (a CRM's sync). They have no password until they
    set one through the portal's "forgot password"; the address stays unconfirmed, so
    only the organisation given here, not their domain, makes them a member. Managers."""
    _manager_only(request.user)
    person = profile_services.customer_create(
        email=payload.email, changes=_customer_changes(payload)
    )
    return Status(201, _customer_out(directory.customer_get(person.pk)))


@api.patch("/customers/{customer_id}", response=CustomerOut, tags=["customers"])
def customers_update(request: HttpRequest, customer_id: str, payload: CustomerPatch):
    """Name, language, organisation (``organisation_id``, null to take them out), VIP,
    and whether they see their organisation's tickets. Managers."""
    _manager_only(request.user)
    person = _customer_or_404(customer_id)
    profile_services.customer_update(customer=person, changes=_customer_changes(payload))
    return _customer_out(directory.customer_get(person.pk))


def _organisation_or_404(organisation_id: str) -> Organisation:
    pk = parse_id(organisation_id)
    organisation = Organisation.objects.filter(pk=pk).first() if pk is not None else None
    if organisation is None:
        raise Http404
    return organisation


@api.get("/organisations", response=OrganisationPageOut, tags=["customers"])
def organisations_list(request: HttpRequest, filters: Query[OrganisationFiltersIn]):
    _agent_only(request.user)
    page = directory.organisations_page(
        q=filters.q or "", after=_after(filters.cursor), limit=filters.limit
    )
    return {
        "items": page.items,
        "next_cursor": str(page.next_after) if page.next_after else None,
    }


@api.get("/organisations/{organisation_id}", response=OrganisationOut, tags=["customers"])
def organisations_read(request: HttpRequest, organisation_id: str):
    _agent_only(request.user)
    return _organisation_or_404(organisation_id)


@api.post("/organisations", response={201: OrganisationOut}, tags=["customers"])
def organisations_create(request: HttpRequest, payload: OrganisationIn):
    """An organisation; customers with a confirmed address at one of its domains join
    it. Webmail services, public suffixes and another organisation's domains are
    refused, as in the admin. Managers."""
    _manager_only(request.user)
    organisation = profile_services.organisation_save(
        organisation=Organisation(), changes=payload.dict()
    )
    return Status(201, organisation)


@api.patch("/organisations/{organisation_id}", response=OrganisationOut, tags=["customers"])
def organisations_update(request: HttpRequest, organisation_id: str, payload: OrganisationPatch):
    _manager_only(request.user)
    organisation = _organisation_or_404(organisation_id)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return profile_services.organisation_save(organisation=organisation, changes=changes)
