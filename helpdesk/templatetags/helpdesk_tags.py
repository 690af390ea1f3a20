from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

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
