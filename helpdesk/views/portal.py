"""The customer portal: submit, follow, reply, confirm. Guests follow by signed link."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from wagtail import hooks

from accounts.models import User
from helpdesk import selectors, usercontent
from helpdesk.access import (
    guest_ticket_token,
    ticket_get_by_code_and_email_or_404,
    ticket_get_for_guest_or_404,
    ticket_get_for_user_or_404,
    tickets_visible_to,
)
from helpdesk.forms import ReplyForm, TicketForm, TrackForm
from helpdesk.ids import parse_id
from helpdesk.models import Attachment, Channel, MessageKind, StatusCategory, Ticket
from helpdesk.services import tickets as ticket_services
from kb_pages.deflection import PORTAL_TICKET_COUNTS_HOOK, form_token_new
from tenants.context import current_schema_name


def _follow_up_of(request: HttpRequest, value: str) -> Ticket | None:
    """The request a new one follows up: a code of the signed-in customer's own request,
    or a guest link's token (which a signed-in person may hold too: an older email's
    link). Whose it is, and whether it is closed, the service checks again."""
    if not value:
        return None
    if request.user.is_authenticated:
        try:
            ticket = ticket_get_for_user_or_404(user=request.user, reference=value)
        except Http404:
            pass
        else:
            # Their own: an organisation manager reads colleagues' requests, but a
            # follow-up comes from the person who made the request.
            return ticket if ticket.requester_id == request.user.pk else None
    try:
        return ticket_get_for_guest_or_404(token=value)
    except Http404:
        return None


FOLLOW_UP_MAX = 2000  # a guest token grows with the address it signs


def _account_following_up(old: Ticket | None, email: str) -> User | None:
    """A guest link's follow-up of a request that belongs to an account now (the guest
    made one with that address since): the new request is the account's too, in their
    "My requests", not a guest ticket waiting for another confirmation."""
    if old is None or old.requester is None or not email:
        return None
    return old.requester if old.requester.email.lower() == email.strip().lower() else None


def _may_follow_up(ticket: Ticket) -> bool:
    return ticket.stage == StatusCategory.CLOSED and not ticket.merged_into_id


def _follow_up_initial(old: Ticket, value: str) -> dict:
    return {
        "follow_up": value,
        "department": old.department_id,
        "subject": old.subject,
        "email": old.requester_email,
        "name": old.requester_name,
    }


@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponse:
    user = request.user if request.user.is_authenticated else None
    # ``?department=`` preselects a department: its custom fields and categories are on
    # the page (ticket_form.js asks for it when the customer picks a department).
    chosen = request.GET.get("department", "")
    initial = {"department": chosen} if parse_id(chosen) is not None else {}
    # ``?follow_up=``: a new request that continues a closed one (the closed page links
    # here), starting from its department and subject. A posted form says it in its own
    # hidden field: the page's address may still carry one it was not offered as.
    if request.method == "POST":
        asked = request.POST.get("follow_up", "")[:FOLLOW_UP_MAX]
        follow_up = _follow_up_of(request, asked)
    else:
        asked = request.GET.get("follow_up", "")[:FOLLOW_UP_MAX]
        follow_up = _follow_up_of(request, asked)
        if follow_up is None or not _may_follow_up(follow_up):
            follow_up, asked = None, ""  # an open, merged, foreign or unknown one: a plain form
        else:
            initial = {**_follow_up_initial(follow_up, asked), **initial}
    form = TicketForm(
        request.POST or None, request.FILES or None, guest=user is None,
        staff=bool(user and user.is_agent), initial=initial or None,
    )  # fmt: skip
    if request.method == "POST" and asked and follow_up is None:
        form.add_error(None, _("That request cannot be followed up from here."))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        requester = user or _account_following_up(follow_up, data.get("email", ""))
        try:
            ticket = ticket_services.ticket_create(
                subject=data["subject"],
                body_text=data["body"],
                department=data["department"],
                category=data.get("category"),
                urgency=data["urgency"],
                channel=Channel.PORTAL,
                requester=requester,
                requester_email=data.get("email", ""),
                requester_name=data.get("name", ""),
                custom_fields=form.custom_values(),
                uploads=form.uploads,
                language=get_language() or "en",
                follow_up_of=follow_up,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if user is None:
                url = reverse("portal_guest_ticket", args=[guest_ticket_token(ticket)])
                return redirect(f"{url}?submitted=1")
            return redirect("portal_ticket_submitted", reference=ticket.reference)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "helpdesk/portal/ticket_new.html",
        # Each rendering is one form session for deflection counting (see kb_pages).
        {"form": form, "deflect_token": form_token_new(), "follow_up": follow_up},
        status=status,
    )


@hooks.register(PORTAL_TICKET_COUNTS_HOOK)
def portal_tickets_by_month(since: dt.datetime) -> dict[dt.date, int]:
    """Tickets opened on the portal per month, for the KB's deflection rate (kb_pages may
    not import the helpdesk, so the helpdesk answers through this hook). Portal channel
    only: email and API tickets never met the suggestions, so they don't dilute the rate."""
    rows = (
        Ticket.objects.filter(channel=Channel.PORTAL, created_at__gte=since)
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["month"].date(): row["count"] for row in rows}


@login_required
def ticket_submitted(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = ticket_get_for_user_or_404(user=request.user, reference=reference)
    return render(request, "helpdesk/portal/ticket_submitted.html", {"ticket": ticket})


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    tickets = selectors.customer_tickets(user=request.user)[:200]
    return render(request, "helpdesk/portal/ticket_list.html", {"tickets": tickets})


def _ticket_page(
    request, ticket: Ticket, *, reply_url: str, action_base: str, form=None, guest_token=""
):
    return render(
        request,
        "helpdesk/portal/ticket_detail.html",
        {
            "ticket": ticket,
            "conversation": selectors.ticket_conversation(ticket=ticket, include_internal=False),
            "timeline": selectors.ticket_timeline(ticket=ticket, include_internal=False),
            "form": form or ReplyForm(),
            "reply_url": reply_url,
            "action_base": action_base,
            "submitted": request.GET.get("submitted") == "1",
            "guest_token": guest_token,
            # A closed request offers its own requester a follow-up (a merged one goes on
            # in the ticket it was merged into).
            "follow_up_offered": _may_follow_up(ticket)
            and bool(guest_token or ticket.requester_id == request.user.pk),
            # Merged: the target is linked only for whom its page opens (the same rule as
            # the page itself); others see its code.
            "merged_target_opens": bool(
                ticket.merged_into_id
                and request.user.is_authenticated
                and tickets_visible_to(request.user).filter(pk=ticket.merged_into_id).exists()
            ),
        },
        status=400 if form is not None and form.errors else 200,
    )


@login_required
def ticket_detail(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = ticket_get_for_user_or_404(user=request.user, reference=reference)
    base = f"/tickets/{ticket.reference}/"
    return _ticket_page(request, ticket, reply_url=f"{base}reply/", action_base=base)


def guest_ticket(request: HttpRequest, token: str) -> HttpResponse:
    ticket = ticket_get_for_guest_or_404(token=token)
    base = f"/t/{token}/"
    return _ticket_page(
        request, ticket, reply_url=f"{base}reply/", action_base=base, guest_token=token
    )


def _reply(request, ticket: Ticket, *, author, back: str, reply_url: str, action_base: str):
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            ticket_services.ticket_reply(
                ticket=ticket,
                author=author,
                body_text=form.cleaned_data["body"],
                uploads=form.uploads,
                channel=Channel.PORTAL,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your reply was sent."))
            return redirect(back)
    return _ticket_page(request, ticket, reply_url=reply_url, action_base=action_base, form=form)


@login_required
@require_POST
def ticket_reply(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = ticket_get_for_user_or_404(user=request.user, reference=reference)
    base = f"/tickets/{ticket.reference}/"
    return _reply(
        request, ticket, author=request.user, back=base, reply_url=f"{base}reply/",
        action_base=base,
    )  # fmt: skip


@require_POST
def guest_reply(request: HttpRequest, token: str) -> HttpResponse:
    ticket = ticket_get_for_guest_or_404(token=token)
    base = f"/t/{token}/"
    return _reply(
        request, ticket, author=None, back=base, reply_url=f"{base}reply/", action_base=base
    )


CUSTOMER_ACTIONS = ("resolve", "reopen")


def _resolve_or_reopen(request, ticket: Ticket, action: str, actor, back: str) -> HttpResponse:
    try:
        if action == "resolve":
            ticket_services.ticket_customer_resolve(ticket=ticket, actor=actor)
            messages.success(request, _("Thank you! We marked your request as resolved."))
        elif action == "reopen":
            ticket_services.ticket_customer_reopen(ticket=ticket, actor=actor)
            messages.success(request, _("We reopened your request."))
        else:  # the views answer 404 first; never read another word as "reopen"
            raise Http404
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(back)


@login_required
@require_POST
def ticket_status_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    if action not in CUSTOMER_ACTIONS:
        raise Http404
    ticket = ticket_get_for_user_or_404(user=request.user, reference=reference)
    return _resolve_or_reopen(
        request, ticket, action, request.user, f"/tickets/{ticket.reference}/"
    )


@require_POST
def guest_status_action(request: HttpRequest, token: str, action: str) -> HttpResponse:
    if action not in CUSTOMER_ACTIONS:
        raise Http404
    ticket = ticket_get_for_guest_or_404(token=token)
    return _resolve_or_reopen(request, ticket, action, None, f"/t/{token}/")


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    form = TrackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = ticket_get_by_code_and_email_or_404(
                reference=form.cleaned_data["reference"], email=form.cleaned_data["email"]
            )
        except Http404:
            form.add_error(None, _("No request matches this tracking code and email."))
        else:
            return redirect("portal_guest_ticket", token=guest_ticket_token(ticket))
    status = 400 if request.method == "POST" else 200
    return render(request, "helpdesk/portal/track.html", {"form": form}, status=status)


def _is_public(attachment: Attachment) -> bool:
    return attachment.message is not None and attachment.message.kind == MessageKind.PUBLIC


def attachment_download(request: HttpRequest, token: str) -> HttpResponse:
    """Files are served only through here: the ticket must be visible to the asker, and an
    attachment of an internal note only to agents."""
    attachment = Attachment.objects.select_related("ticket", "message").filter(token=token).first()
    if attachment is None:
        raise Http404
    guest = request.GET.get("t")
    user = request.user
    if user.is_authenticated and tickets_visible_to(user).filter(pk=attachment.ticket_id).exists():
        allowed = user.is_agent or _is_public(attachment)
    elif guest:
        try:
            ticket = ticket_get_for_guest_or_404(token=guest)
        except Http404:
            ticket = None
        allowed = (
            ticket is not None and ticket.pk == attachment.ticket_id and _is_public(attachment)
        )
    else:
        allowed = False
    if not allowed:
        raise Http404
    if usercontent.enabled():
        # Not from here: from the host that shares no cookies with the portal.
        return redirect(
            usercontent.signed_url(schema_name=current_schema_name(), attachment=attachment)
        )
    return usercontent.file_response(attachment)
