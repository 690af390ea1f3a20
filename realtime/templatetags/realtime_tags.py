from django import template

from realtime.models import Event

register = template.Library()


@register.simple_tag
def live_last_event_id() -> int:
    """The newest event id when the page was rendered: the page already shows everything
    up to it, so its socket asks only for what came after."""
    return Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
