from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.calendars import format_local_date

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
}


@register.filter
def event_label(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind))


# --- hot rows ---------------------------------------------------------------------------
# A queue page is 50 rows and two 60-agent menus: some 1,300 variable nodes through the
# template engine, 15 of its 19 ms on 1M tickets (bench/helpdesk.py). The same markup
# built with format_html costs a tenth of that. Each value is escaped as the template
# engine would escape it.


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
            f'<option value="{escape(value)}"{" selected" if str(value) in chosen else ""}>'
            f"{escape(label)}</option>"
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
    rows = []
    for ticket in tickets:
        assignee = ticket.assignee
        rows.append(
            format_html(
                '<tr data-reference="{ref}" data-updated="{updated_iso}"'
                ' class="priority-{priority}{unseen_class}">'
                '<td><input type="checkbox" name="tickets" value="{ref}" aria-label="{ref}"></td>'
                '<td dir="ltr"><a href="{url}">{ref}</a>{mark}</td>'
                '<td dir="auto" data-col="subject">{subject}{tier}</td>'
                '<td dir="auto" data-col="requester">{requester}</td>'
                '<td data-col="department">{department}</td>'
                '<td data-col="status">{status}</td>'
                "<td>{priority_label}</td>"
                '<td data-col="assignee">{assignee}</td>'
                "<td>{updated}</td></tr>",
                ref=ticket.reference,
                updated_iso=ticket.updated_at.isoformat() if ticket.updated_at else "",
                priority=ticket.priority,
                unseen_class=" unseen" if ticket.unseen else "",
                url=reverse("desk_ticket", args=[ticket.reference]),
                mark=mark if ticket.unseen else "",
                subject=ticket.subject,
                tier=tier_badge if ticket.tier == 2 else "",
                requester=ticket.requester_name or ticket.requester_email,
                department=ticket.department.name,
                status=ticket.status.agent_label,
                priority_label=ticket.priority_label,
                assignee=str(assignee) if assignee is not None else "—",
                updated=format_local_date(ticket.updated_at, with_time=True),
            )
        )
    return mark_safe("\n".join(rows))  # noqa: S308 -- built with format_html
