"""The agent desk: queues, the ticket page and its actions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from helpdesk import directory, selectors
from helpdesk.access import ticket_get_for_user_or_404, tickets_visible_to
from helpdesk.forms import AgentReplyForm, CustomerProfileForm, TicketUpdateForm
from helpdesk.ids import parse_id
from helpdesk.models import (
    CannedReply,
    Channel,
    Department,
    Priority,
    SavedView,
    StatusCategory,
    Ticket,
    TicketStatus,
)
from helpdesk.references import clean_reference
from helpdesk.services import profiles as profile_services
from helpdesk.services import tickets as ticket_services
from helpdesk.text import name_key
from kb_pages.services import article_draft_from_ticket
from kb_pages.text import script_language


def agent_required(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_agent:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _text_param(params: QueryDict, name: str, limit: int) -> str:
    # PostgreSQL text holds no NUL: one in a filter would be a server error, not no match.
    return params.get(name, "").replace("\x00", "")[:limit]


def filters_from(params: QueryDict) -> selectors.TicketFilters:
    queue = params.get("queue", "open")
    return selectors.TicketFilters(
        queue=queue if queue in selectors.QUEUES else "open",
        stages=[s for s in params.getlist("stage") if s in StatusCategory.values],
        priorities=[p for p in (parse_id(v) for v in params.getlist("priority")) if p],
        department_id=parse_id(params.get("department")),
        category_id=parse_id(params.get("category")),
        assignee_id=parse_id(params.get("assignee")),
        requester=_text_param(params, "requester", 254),
        organisation_id=parse_id(params.get("organisation")),
        tag=_text_param(params, "tag", 50),
        created_from=_date(params.get("from")),
        created_to=_date(params.get("to")),
        q=_text_param(params, "q", 200),
        sort=params.get("sort", "-updated"),
        cursor=_text_param(params, "cursor", 500),
    )


# Up to this many organisations the filter is a select; past it, a name typed with
# suggestions (organisation_filter.js): rendering every option cost the page milliseconds.
ORGANISATION_SELECT_MAX = 50
ORGANISATION_QUERY_MAX = 100  # characters of a search for suggestions
ORGANISATION_NAME_MAX = 150  # Organisation.name's max_length: the text box's too


@dataclasses.dataclass
class OrganisationFilter:
    organisation_id: int | None
    choices: list[tuple[int, str]] | None  # the select's options; None: the text box
    text: str = ""  # what the text box shows
    unavailable: bool = False  # an id that names no organisation (an old link, saved view)
    error: str = ""


def _organisation_filter(params: QueryDict, organisation_id: int | None) -> OrganisationFilter:
    """The queue's organisation filter: the id asked for, or the organisation the name in
    the text box names (the box's own field, sent whether or not JavaScript ran).

    With JavaScript, picking a suggestion sets ``organisation`` and the box's text, and
    typing clears the id. Without it, ``organisation`` keeps the id the page was rendered
    with: a name that no longer folds to that organisation's is looked up instead, and
    must name exactly one organisation.
    """
    choices = selectors.organisation_choices(limit=ORGANISATION_SELECT_MAX + 1)
    select = choices if len(choices) <= ORGANISATION_SELECT_MAX else None
    chosen = None
    if organisation_id and select is not None:
        chosen = next((choice for choice in select if choice[0] == organisation_id), None)
    elif organisation_id:  # one row, not the thousands of the list
        chosen = selectors.organisation_get(organisation_id=organisation_id)
    typed = params.get("organisation_name")
    if typed is not None:  # the text box's form, not a link
        typed = " ".join(typed.replace("\x00", " ").split())[:ORGANISATION_NAME_MAX]
        if not typed:  # emptied: any organisation
            return OrganisationFilter(None, select)
        try:
            chosen = selectors.organisation_resolve(name=typed, picked=chosen)
        except ValidationError as error:
            return OrganisationFilter(None, select, typed, error=error.messages[0])
        organisation_id = chosen[0]
    return OrganisationFilter(
        organisation_id,
        select,
        text=chosen[1] if chosen else "",
        unavailable=bool(organisation_id) and chosen is None,
    )


@agent_required
def queue(request: HttpRequest) -> HttpResponse:
    filters = filters_from(request.GET)
    organisation = _organisation_filter(request.GET, filters.organisation_id)
    filters = dataclasses.replace(filters, organisation_id=organisation.organisation_id)
    filtered = bool(
        filters.q
        or filters.stages
        or filters.priorities
        or filters.department_id
        or filters.category_id
        or filters.assignee_id
        or filters.requester
        or filters.organisation_id
        or filters.tag
        or filters.created_from
        or filters.created_to
    )
    page = selectors.desk_tickets(user=request.user, filters=filters)
    labels = dict(Priority.choices)  # get_priority_display() hashes the choices per row
    unseen = selectors.tickets_unseen(user=request.user, tickets=page.tickets)
    for ticket in page.tickets:
        ticket.priority_label = labels[ticket.priority]
        ticket.unseen = ticket.pk in unseen
    params = request.GET.copy()
    params.pop("cursor", None)
    # The next page and a saved view carry the organisation by id, however it was named.
    params.pop("organisation_name", None)
    params.pop("organisation", None)
    if filters.organisation_id:
        params["organisation"] = str(filters.organisation_id)
    departments = list(selectors.departments_for_agent(user=request.user))
    category_groups = selectors.categories_by_department(departments=departments)
    category_ids = {pk for _department, group in category_groups for pk, _name in group}
    return render(
        request,
        "helpdesk/desk/queue.html",
        {
            "page": page,
            "filters": filters,
            "counts": selectors.queue_counts(user=request.user),
            "departments": departments,
            "department_choices": [(d.pk, d.name) for d in departments],
            # A category or organisation no longer on offer (an old link or saved view)
            # still filters: the page says so rather than showing "Any".
            "category_groups": category_groups,
            "category_unavailable": bool(filters.category_id)
            and filters.category_id not in category_ids,
            "organisation": organisation,
            "organisation_name_max": ORGANISATION_NAME_MAX,
            "statuses": StatusCategory.choices,
            "ticket_statuses": TicketStatus.objects.values_list("id", "agent_label"),
            "priorities": Priority.choices,
            # Listed twice (filter and bulk assign): read once.
            "agents": _agent_choices(),
            "saved_views": list(SavedView.objects.filter(owner=request.user)),
            "query_string": params.urlencode(),
            # The queue's own rule, for live.js to tell whether a changed ticket still
            # belongs (or now does): only where nothing else filters the page.
            "live_queue": "" if filtered else filters.queue,
            # A ticket that comes in goes on top: only the first page in recency order.
            "live_insert": not filtered and not filters.cursor and filters.sort == "-updated",
        },
    )


@agent_required
@require_GET
def organisation_suggestions(request: HttpRequest) -> JsonResponse:
    """GET /desk/organisations/?q=acm: up to 20 organisations whose name contains ``q``
    (Persian/Arabic folded as search folds it), by name, for the queue's filter."""
    query = request.GET.get("q", "")
    if len(query) > ORGANISATION_QUERY_MAX:
        return _json_error(
            _("Please use at most %(count)d characters.") % {"count": ORGANISATION_QUERY_MAX}
        )
    if "\x00" in query:
        return _json_error(_("The search contains a character that is not allowed."))
    if not name_key(query):
        return _json_error(_("Type part of an organisation’s name."))
    results = [
        {"id": pk, "name": name} for pk, name in selectors.organisation_suggestions(text=query)
    ]
    response = JsonResponse({"results": results})
    response["Cache-Control"] = "private, no-store"
    return response


def _json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@agent_required
@require_GET
def queue_counts(request: HttpRequest) -> JsonResponse:
    """The queue badges, for the desk's live page to refresh when tickets move."""
    response = JsonResponse(selectors.queue_counts(user=request.user))
    response["Cache-Control"] = "no-store"
    return response


# What a saved view keeps of a queue's address: its filters (see filters_from), not the page.
SAVED_VIEW_PARAMS = (
    "queue", "stage", "priority", "department", "category", "assignee", "requester",
    "organisation", "tag", "from", "to", "q", "sort",
)  # fmt: skip


def _saved_view_query(raw: str) -> str:
    """The filters of ``raw`` re-encoded: a saved view's link and the redirect after
    saving it carry only filter parameters, percent-encoded."""
    params = QueryDict(raw[:1000])
    kept = QueryDict(mutable=True)
    for key in SAVED_VIEW_PARAMS:
        values = [value for value in params.getlist(key) if value]
        if values:
            kept.setlist(key, values)
    return kept.urlencode()[:1000]


def _saved_view_of(request: HttpRequest, view_id: int) -> SavedView:
    """The agent's own saved view; the same 404 for another's and for none at all."""
    view = SavedView.objects.filter(pk=view_id, owner=request.user).first()
    if view is None:
        raise Http404
    return view


@agent_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("name", "").strip()[:80]
    query = _saved_view_query(request.POST.get("query", ""))
    if not name:
        messages.error(request, _("Give the view a name."))
    else:
        SavedView.objects.create(owner=request.user, name=name, query=query)
        messages.success(request, _("View saved."))
    return redirect(f"/desk/?{query}")


@agent_required
@require_POST
def saved_view_rename(request: HttpRequest, view_id: int) -> HttpResponse:
    view = _saved_view_of(request, view_id)
    name = request.POST.get("name", "").strip()[:80]
    if not name:
        messages.error(request, _("Give the view a name."))
    else:
        view.name = name
        view.save(update_fields=["name"])
        messages.success(request, _("View renamed."))
    return redirect("desk_queue")


@agent_required
@require_POST
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    view = _saved_view_of(request, view_id)
    view.delete()
    messages.success(request, _("View deleted."))
    return redirect("desk_queue")


@agent_required
@require_http_methods(["GET", "POST"])
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A customer as the desk sees them: profile, organisation, VIP and the tickets of
    theirs this agent may open. Managers change the organisation, VIP and whether the
    customer reads the organisation's tickets (as the API's PATCH /customers/<id>)."""
    customer = directory.customer_get(customer_id)
    if customer is None:
        raise Http404
    profile = getattr(customer, "customer_profile", None)
    organisation = profile.organisation if profile and profile.organisation_id else None
    form = None
    if request.user.is_manager:
        form = CustomerProfileForm(
            request.POST or None,
            initial={
                "organisation": organisation.pk if organisation else None,
                "organisation_name": organisation.name if organisation else "",
                "is_vip": bool(profile and profile.is_vip),
                "sees_organisation_tickets": bool(profile and profile.sees_organisation_tickets),
            },
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                profile_services.customer_update(
                    customer=customer,
                    changes={
                        "organisation": data["organisation_object"],
                        "is_vip": data["is_vip"],
                        "sees_organisation_tickets": data["sees_organisation_tickets"],
                    },
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("Customer saved."))
                return redirect("desk_customer", customer_id=customer.pk)
    elif request.method == "POST":
        raise PermissionDenied
    tickets = (
        tickets_visible_to(request.user)
        .filter(requester=customer)
        .select_related("status", "department")
        .only("reference", "subject", "created_at", "status__agent_label", "department__name")
        .order_by("-created_at")[:20]
    )
    return render(
        request,
        "helpdesk/desk/customer.html",
        {
            "customer": customer,
            "profile": profile,
            "organisation": organisation,
            "form": form,
            "tickets": list(tickets),
        },
        status=400 if form is not None and form.errors else 200,
    )


def _assignee_from(value: str | None) -> User | None:
    """The agent an assign form chose; None for its explicit "Nobody" (an empty value).
    Anything else that is not an active agent of this tenant is refused, never read as
    "Nobody": a stale or typed id must not unassign tickets."""
    if value == "":
        return None
    assignee_id = parse_id(value)
    assignee = User.objects.filter(pk=assignee_id).first() if assignee_id else None
    if assignee is None or not assignee.is_agent:
        raise ValidationError(_("Choose an agent from the list, or “Nobody” to unassign."))
    return assignee


def _agent_choices() -> list[tuple[int, str]]:
    """(id, name) of every active agent: plain pairs render far cheaper than users."""
    return [
        (pk, name or email)
        for pk, name, email in User.objects.filter(is_staff=True, is_active=True)
        .order_by("name")
        .values_list("pk", "name", "email")
    ]


def _canned(ticket: Ticket, agent: User) -> list[tuple[str, str]]:
    values = {
        "customer_name": ticket.requester_name or ticket.requester_email,
        "ticket_reference": ticket.reference,
        "ticket_subject": ticket.subject,
        "agent_name": agent.name or agent.email,
    }
    replies = CannedReply.objects.filter(department__isnull=True) | CannedReply.objects.filter(
        department=ticket.department_id
    )
    rendered = []
    for reply in replies.order_by("title"):
        body = reply.body
        for key, value in values.items():
            body = body.replace("{" + key + "}", str(value))
        rendered.append((reply.title, body))
    return rendered


DRAFTABLE_STAGES = (StatusCategory.RESOLVED, StatusCategory.CLOSED)


def _ticket_language(ticket: Ticket) -> str:
    """The language the customer reads: their profile's, else the one the subject is
    written in; empty when neither says."""
    language = ticket.requester.language if ticket.requester_id else ""
    return language or script_language(ticket.subject) or ""


def _ticket_page(
    request, ticket: Ticket, *, reply_form=None, update_form=None, status=200, collision=""
):
    conversation = selectors.ticket_conversation(ticket=ticket, include_internal=True)
    return render(
        request,
        "helpdesk/desk/ticket.html",
        {
            "ticket": ticket,
            "conversation": conversation,
            "timeline": selectors.ticket_timeline(ticket=ticket, include_internal=True),
            # What this agent may open: an IT agent sees nothing of an employee's HR tickets.
            "history": selectors.requester_history(ticket=ticket, user=request.user),
            "reply_form": reply_form or AgentReplyForm(),
            "update_form": update_form
            or TicketUpdateForm(
                department_id=ticket.department_id,
                custom_fields=ticket.custom_fields,
                initial={
                    "status": ticket.status_id,
                    "priority": ticket.priority,
                    "category": ticket.category_id,
                    "tags": ", ".join(ticket.tags),
                },
            ),
            # (body, title): the option's value is the text inserted.
            "canned_options": [(body, title) for title, body in _canned(ticket, request.user)],
            # Every message is on the page (notes included): the newest is the last read.
            "seen_message": max((message.pk for message in conversation), default=0),
            "collision": collision,
            "departments": Department.objects.exclude(pk=ticket.department_id).values_list(
                "pk", "name"
            ),
            "agents": _agent_choices(),
            "linked": list(ticket.linked_incidents.only("reference", "subject")),
            "related": selectors.related_tickets(ticket=ticket, user=request.user),
            "profile": getattr(ticket.requester, "customer_profile", None)
            if ticket.requester_id
            else None,
            "kb_language": _ticket_language(ticket) or get_language(),
            "kb_languages": settings.LANGUAGES,
            "can_draft_article": ticket.stage in DRAFTABLE_STAGES,
        },
        status=status,
    )


@agent_required
def ticket_detail(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = ticket_get_for_user_or_404(user=request.user, reference=reference)
    ticket_services.tickets_mark_seen(user=request.user, tickets=[ticket])
    return _ticket_page(request, ticket)


@agent_required
@require_POST
def ticket_reply(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = ticket_get_for_user_or_404(user=request.user, reference=reference)
    form = AgentReplyForm(request.POST, request.FILES)
    if form.is_valid() and not form.cleaned_data["internal"]:
        collision = _collision(request, ticket)
        if collision:
            return _ticket_page(request, ticket, reply_form=form, status=409, collision=collision)
    if form.is_valid():
        try:
            ticket_services.ticket_reply(
                ticket=ticket,
                author=request.user,
                body_text=form.cleaned_data["body"],
                internal=form.cleaned_data["internal"],
                set_status=form.cleaned_data.get("status"),
                uploads=form.uploads,
                channel=Channel.AGENT,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Note added.") if form.cleaned_data["internal"] else _("Reply sent.")
            )
            return redirect("desk_ticket", reference=ticket.reference)
    return _ticket_page(request, ticket, reply_form=form, status=400)


def _collision(request: HttpRequest, ticket: Ticket) -> str:
    """What changed since the agent opened the page, unless they chose to send anyway."""
    if request.POST.get("confirm_collision") == "1" or "seen_message" not in request.POST:
        return ""
    seen = parse_id(request.POST.get("seen_message")) or 0
    newer = selectors.public_replies_since(ticket=ticket, message_id=seen, exclude=request.user)
    if newer:
        names = ", ".join(sorted({m.author_name or m.author_email for m in newer}))
        return _("%(names)s replied since you opened this ticket. Read it, then send anyway?") % {
            "names": names
        }
    if request.POST.get("seen_status", ticket.status.key) != ticket.status.key:
        return _("The status changed to %(status)s since you opened this ticket.") % {
            "status": ticket.status.agent_label
        }
    return ""


@agent_required
@require_POST
def ticket_update(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = ticket_get_for_user_or_404(user=request.user, reference=reference)
    form = TicketUpdateForm(
        request.POST, department_id=ticket.department_id, custom_fields=ticket.custom_fields
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            ticket_services.ticket_update(
                ticket=ticket,
                actor=request.user,
                status=data["status"],
                priority=data["priority"],
                category=data["category"],
                tags=data["tags"],
                custom_fields=form.custom_values(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Ticket updated."))
            return redirect("desk_ticket", reference=ticket.reference)
    return _ticket_page(request, ticket, update_form=form, status=400)


def _action(request, ticket: Ticket, do) -> HttpResponse:
    try:
        result = do(ticket)
    except ValidationError as error:
        return _refused(request, ticket, error)
    target = result.reference if isinstance(result, Ticket) else ticket.reference
    if not tickets_visible_to(request.user).filter(reference=target).exists():
        return redirect("desk_queue")  # e.g. transferred out of the agent's departments
    return redirect("desk_ticket", reference=target)


def _refused(request, ticket: Ticket, error: ValidationError | str) -> HttpResponse:
    """Back to the ticket page, saying why nothing changed."""
    text = error if isinstance(error, str) else " ".join(error.messages)
    messages.error(request, text)
    return redirect("desk_ticket", reference=ticket.reference)


# Each action looks its ticket up first: an unknown code answers 404 whatever was posted.


@agent_required
@require_POST
def ticket_assign(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = ticket_get_for_user_or_404(user=request.user, reference=reference)
    try:
        assignee = _assignee_from(request.POST.get("assignee"))
    except ValidationError as error:
        return _refused(request, ticket, error)
    return _action(
        request, ticket,
        lambda t: ticket_services.ticket_assign(ticket=t, actor=request.user, assignee=assignee),
    )  # fmt: skip


@agent_required
@require_POST
def ticket_transfer(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = ticket_get_for_user_or_404(user=request.user, reference=reference)
    department_id = parse_id(request.POST.get("department"))
    department = Department.objects.filter(pk=department_id).first() if department_id else None
    if department is None:
        return _refused(request, ticket, _("Choose a department."))
    reason = request.POST.get("reason", "")[:2000]
    return _action(
        request, ticket,
        lambda t: ticket_services.ticket_transfer(
            ticket=t, actor=request.user, department=department, reason=reason
        ),
    )  # fmt: skip


@agent_required
@require_POST
def ticket_escalate(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = ticket_get_for_user_or_404(user=request.user, reference=reference)
    reason = request.POST.get("reason", "")[:2000]
    return _action(
        request, ticket,
        lambda t: ticket_services.ticket_escalate(ticket=t, actor=request.user, reason=reason),
    )  # fmt: skip


def _other_ticket(request, field: str) -> Ticket | None:
    code = clean_reference(request.POST.get(field, ""))
    if not code:
        return None
    return tickets_visible_to(request.user).filter(reference=code).first()


@agent_required
@require_POST
def ticket_merge(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = ticket_get_for_user_or_404(user=request.user, reference=reference)
    target = _other_ticket(request, "target")
    if target is None:
        return _refused(request, ticket, _("No ticket with that tracking code."))
    return _action(
        request, ticket,
        lambda t: ticket_services.ticket_merge(source=t, target=target, actor=request.user),
    )  # fmt: skip


@agent_required
@require_POST
def ticket_master(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = ticket_get_for_user_or_404(user=request.user, reference=reference)
    master = _other_ticket(request, "master")
    # An empty code unlinks the ticket from its master; any other must name a ticket.
    if request.POST.get("master", "").strip() and master is None:
        return _refused(request, ticket, _("No ticket with that tracking code."))

    def link(ticket: Ticket) -> Ticket:
        return ticket_services.ticket_link_to_master(
            ticket=ticket, master=master, actor=request.user
        )

    return _action(request, ticket, link)


@agent_required
@require_POST
def ticket_link(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = ticket_get_for_user_or_404(user=request.user, reference=reference)
    other = _other_ticket(request, "other")
    if other is None:
        return _refused(request, ticket, _("No ticket with that tracking code."))
    return _action(
        request, ticket,
        lambda t: ticket_services.ticket_link_related(ticket=t, other=other, actor=request.user)
        and t,
    )  # fmt: skip


@agent_required
@require_POST
def ticket_draft_article(request: HttpRequest, reference: str) -> HttpResponse:
    """A resolved ticket becomes an unpublished KB article: the question and the last
    public answer, personal data replaced, for the agent to review in Wagtail."""
    ticket = ticket_get_for_user_or_404(user=request.user, reference=reference)
    back = redirect("desk_ticket", reference=ticket.reference)
    if ticket.stage not in DRAFTABLE_STAGES:
        messages.error(request, _("Only resolved or closed tickets can become articles."))
        return back
    conversation = selectors.ticket_conversation(ticket=ticket, include_internal=False)
    question = conversation[0] if conversation else None  # the request as it was opened
    answer = next((m for m in reversed(conversation[1:]) if m.from_staff), None)
    if question is None or answer is None:
        messages.error(request, _("This ticket has no public answer from an agent to use."))
        return back
    names = {ticket.requester_name, *(m.author_name for m in conversation)}
    if ticket.requester_id:
        names.add(ticket.requester.name)
    try:
        article = article_draft_from_ticket(
            subject=ticket.subject,
            question=question.body_text,
            answer=answer.body_text,
            language=_ticket_language(ticket),
            names=sorted(name for name in names if name),
            codes=[ticket.reference],
            author=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return back
    if request.user.has_perm("wagtailadmin.access_admin") and (
        article.permissions_for_user(request.user).can_edit()
    ):
        return redirect(reverse("wagtailadmin_pages:edit", args=[article.pk]))
    messages.success(
        request,
        _("A draft article “%(title)s” is waiting for an editor to review it.")
        % {"title": article.title},
    )
    return back


BULK_ACTIONS = {"assign", "status", "priority", "close", "merge"}
BULK_LIMIT = 200  # four queue pages


@agent_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    back = request.POST.get("next") or "/desk/"
    if not back.startswith("/desk/"):
        back = "/desk/"
    try:
        action, tickets = _bulk_selection(request)
        with transaction.atomic():  # all or nothing
            _bulk_apply(request, action, tickets)
            # The agent's own change: not news to them when the queue reloads.
            changed = Ticket.objects.filter(pk__in=[t.pk for t in tickets]).only("updated_at")
            ticket_services.tickets_mark_seen(user=request.user, tickets=list(changed))
    except (ValidationError, ValueError) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        count = len(tickets)
        messages.success(
            request,
            ngettext("%(count)d ticket updated.", "%(count)d tickets updated.", count)
            % {"count": count},
        )
    return redirect(back)


def _bulk_selection(request) -> tuple[str, list[Ticket]]:
    """The action and every ticket chosen, or ValidationError: a code that is malformed,
    unknown or not the agent's to change refuses the whole batch rather than changing
    the others quietly."""
    action = request.POST.get("action", "")
    posted = request.POST.getlist("tickets")
    if action not in BULK_ACTIONS or not posted:
        raise ValidationError(_("Choose tickets and an action."))
    if len(posted) > BULK_LIMIT:
        raise ValidationError(
            ngettext(
                "Choose at most %(count)d ticket at once.",
                "Choose at most %(count)d tickets at once.",
                BULK_LIMIT,
            )
            % {"count": BULK_LIMIT}
        )
    codes = {clean_reference(code) for code in posted}
    tickets = list(tickets_visible_to(request.user).filter(reference__in=codes - {""}))
    if "" in codes or len(tickets) != len(codes):
        raise ValidationError(
            _(
                "Some of the chosen tickets do not exist or are not yours to change."
                " Nothing was changed: reload the queue and try again."
            )
        )
    return action, tickets


def _bulk_apply(request, action: str, tickets: list[Ticket]) -> None:
    actor = request.user
    if action == "assign":
        assignee = _assignee_from(request.POST.get("assignee"))
        for ticket in tickets:
            ticket_services.ticket_assign(ticket=ticket, actor=actor, assignee=assignee)
    elif action in ("status", "close"):
        status_id = parse_id(request.POST.get("status"))
        status = (
            ticket_services.status_for_stage(StatusCategory.CLOSED)
            if action == "close"
            else TicketStatus.objects.filter(pk=status_id).first()
            if status_id
            else None
        )
        if status is None:
            raise ValidationError(_("Choose a status."))
        for ticket in tickets:
            ticket_services.ticket_update(ticket=ticket, actor=actor, status=status)
    elif action == "priority":
        priority = parse_id(request.POST.get("priority"))
        if priority not in Priority.values:
            raise ValidationError(_("Choose a priority."))
        for ticket in tickets:
            ticket_services.ticket_update(ticket=ticket, actor=actor, priority=priority)
    elif action == "merge":
        if len(tickets) < 2:
            raise ValidationError(_("Choose at least two tickets to merge."))
        target, *sources = sorted(tickets, key=lambda t: t.created_at)
        for source in sources:
            ticket_services.ticket_merge(source=source, target=target, actor=actor)
