"""Dates as people read them: the Jalali (Solar Hijri) calendar with Persian digits in
Persian, the Gregorian calendar through Django's locale formats otherwise."""

from __future__ import annotations

import datetime as dt

import jdatetime
from django.utils import formats, timezone
from django.utils.translation import get_language

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
JALALI_LANGUAGES = frozenset({"fa"})


def uses_jalali(language: str | None = None) -> bool:
    return (language or get_language() or "").split("-")[0] in JALALI_LANGUAGES


def format_local_date(
    value: dt.date | dt.datetime | None, *, with_time: bool = False, language: str | None = None
) -> str:
    if not isinstance(value, dt.date):  # None, or a template's empty string
        return ""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    if not uses_jalali(language):
        format_name = (
            "DATETIME_FORMAT" if with_time and isinstance(value, dt.datetime) else ("DATE_FORMAT")
        )
        return formats.date_format(value, format_name)
    if isinstance(value, dt.datetime):
        jalali = jdatetime.datetime.fromgregorian(datetime=value, locale="fa_IR")
        pattern = "%-d %B %Y، %H:%M" if with_time else "%-d %B %Y"
    else:
        jalali = jdatetime.date.fromgregorian(date=value, locale="fa_IR")
        pattern = "%-d %B %Y"
    return jalali.strftime(pattern).translate(PERSIAN_DIGITS)
