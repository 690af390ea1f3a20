import html

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.calendars import local_date_formatter

register = template.Library()


@register.simple_tag(takes_context=True)
def my_department_ids(context) -> str:
    """The signed-in agent's departments, comma-separated, for the desk's live notices
    (a new or transferred ticket is announced to its department's agents)."""
    from helpdesk.access import agent_department_ids

    user = context.get("user")
    if user is None or not getattr(user, "is_agent", False):
        return ""
    return ",".join(str(pk) for pk in agent_department_ids(user))


EVENT_LABELS = {
    "created": _("created the ticket"),
    "status": _("changed the status"),
    "priority": _("changed the priority"),
    "category": _("changed the category"),
    "tags": _("changed the tags"),
    "fields": _("changed the fields"),
    "assigned": _("assigned the ticket"),
    "transferred": _("transferred the ticket"),
    "escalated": _("escalated to tier 2"),
    "merged_into": _("merged this ticket into another"),
    "merged_from": _("merged another ticket into this one"),
    "master": _("linked to a master incident"),
    "linked": _("linked a related ticket"),
    "master_reply": _("copied a reply from the master incident"),
    "follow_up": _("opened this request as a follow-up of a closed one"),
    "followed_up": _("opened a follow-up of this closed request"),
}


@register.filter
def event_label(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind))


# --- hot rows ---------------------------------------------------------------------------
# A queue page is 50 rows and two 60-agent menus: some 1,300 variable nodes through the
# template engine, 15 of its 19 ms on 1M tickets (bench/helpdesk.py). The same markup
# built here as f-strings costs a small part of that. Each value is escaped as the
# template engine would escape it.


def _text(value) -> str:
    """What ``django.utils.html.escape`` returns, without its lazy-string wrapper: that
    wrapper was a third of a queue's rows (bench/helpdesk.py)."""
    return html.escape(str(value))


@register.simple_tag
def select_options(choices, selected=None) -> SafeString:
    """``<option>`` elements for (value, label) pairs; ``selected``: one value or a
    collection of values to mark (compared as text, as a submitted form would)."""
    if selected is None or selected == "":
        chosen: set[str] = set()
    elif isinstance(selected, list | tuple | set | frozenset):
        chosen = {str(value) for value in selected}
    else:
        chosen = {str(selected)}
    return mark_safe(  # noqa: S308 -- every value and label is escaped here
        "".join(
            f'<option value="{_text(value)}"{" selected" if str(value) in chosen else ""}>'
            f"{_text(label)}</option>"
            for value, label in choices
        )
    )


@register.simple_tag
def queue_rows(tickets, unseen_label: str) -> SafeString:
    """The rows of a desk queue (``live.js`` reads their data attributes and columns)."""
    tier_badge = format_html(' <span class="badge">{}</span>', gettext("Tier 2"))
    mark = format_html(
        '<span class="unseen-mark" title="{0}"><span class="visually-hidden">{0}</span></span>',
        unseen_label,
    )
    when = local_date_formatter(with_time=True)
    # Every row's link is the same URL but for the code (letters and digits only).
    url_head, url_tail = reverse("desk_ticket", args=["REFERENCE"]).split("REFERENCE")
    rows = []
    for ticket in tickets:
        ref = _text(ticket.reference)
        assignee = ticket.assignee
        updated = ticket.updated_at
        rows.append(
            f'<tr data-reference="{ref}" data-updated="{updated.isoformat() if updated else ""}"'
            f' class="priority-{_text(ticket.priority)}{" unseen" if ticket.unseen else ""}">'
            f'<td><input type="checkbox" name="tickets" value="{ref}" aria-label="{ref}"></td>'
            f'<td dir="ltr"><a href="{_text(url_head)}{ref}{_text(url_tail)}">{ref}</a>'
            f"{mark if ticket.unseen else ''}</td>"
            f'<td dir="auto" data-col="subject">{_text(ticket.subject)}'
            f"{tier_badge if ticket.tier == 2 else ''}</td>"
            f'<td dir="auto" data-col="requester">'
            f"{_text(ticket.requester_name or ticket.requester_email)}</td>"
            f'<td data-col="department">{_text(ticket.department.name)}</td>'
            f'<td data-col="status">{_text(ticket.status.agent_label)}</td>'
            f"<td>{_text(ticket.priority_label)}</td>"
            f'<td data-col="assignee">{_text(assignee) if assignee is not None else "—"}</td>'
            f"<td>{_text(when(updated))}</td></tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 -- every value is escaped above
