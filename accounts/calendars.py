"""Dates as people read them: the Jalali (Solar Hijri) calendar with Persian digits in
Persian, the Gregorian calendar through Django's locale formats otherwise."""

from __future__ import annotations

import datetime as dt

import jdatetime
from django.utils import dateformat, formats, timezone
from django.utils.translation import get_language

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
JALALI_LANGUAGES = frozenset({"fa"})


def uses_jalali(language: str | None = None) -> bool:
    return (language or get_language() or "").split("-")[0] in JALALI_LANGUAGES


def format_local_date(
    value: dt.date | dt.datetime | None, *, with_time: bool = False, language: str | None = None
) -> str:
    return local_date_formatter(with_time=with_time, language=language)(value)


def local_date_formatter(*, with_time: bool = False, language: str | None = None):
    """``format_local_date`` with the language and its format looked up once: for a page
    that formats fifty dates (a queue's rows)."""
    if uses_jalali(language):
        return lambda value: _jalali(value, with_time=with_time)
    date_format = formats.get_format("DATE_FORMAT")
    datetime_format = formats.get_format("DATETIME_FORMAT") if with_time else date_format

    def gregorian(value) -> str:
        if not isinstance(value, dt.date):  # None, or a template's empty string
            return ""
        if isinstance(value, dt.datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value)
            return dateformat.format(value, datetime_format)
        return dateformat.format(value, date_format)

    return gregorian


def _jalali(value, *, with_time: bool) -> str:
    if not isinstance(value, dt.date):
        return ""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    if isinstance(value, dt.datetime):
        jalali = jdatetime.datetime.fromgregorian(datetime=value, locale="fa_IR")
        pattern = "%-d %B %Y، %H:%M" if with_time else "%-d %B %Y"
    else:
        jalali = jdatetime.date.fromgregorian(date=value, locale="fa_IR")
        pattern = "%-d %B %Y"
    return jalali.strftime(pattern).translate(PERSIAN_DIGITS)
