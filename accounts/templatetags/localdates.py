from django import template

from accounts.calendars import format_local_date

register = template.Library()


@register.filter
def localdate(value):
    """``{{ ticket.created_at|localdate }}``: Jalali in Persian, Gregorian otherwise."""
    return format_local_date(value)


@register.filter
def localdatetime(value):
    return format_local_date(value, with_time=True)
