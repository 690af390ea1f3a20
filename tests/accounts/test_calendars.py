import datetime as dt
from zoneinfo import ZoneInfo

from django.template import Context, Template
from django.utils import translation

from accounts.calendars import format_local_date


def test_persian_shows_the_jalali_calendar_with_persian_digits():
    with translation.override("fa"):
        assert format_local_date(dt.date(2026, 11, 26)) == "۵ آذر ۱۴۰۵"
        assert format_local_date(dt.date(2026, 3, 21)) == "۱ فروردین ۱۴۰۵"  # Nowruz


def test_persian_datetimes_are_converted_in_local_time(settings):
    settings.TIME_ZONE = "Asia/Tehran"
    late_utc = dt.datetime(2026, 3, 20, 21, 0, tzinfo=ZoneInfo("UTC"))  # 00:30 in Tehran

    with translation.override("fa"):
        assert format_local_date(late_utc, with_time=True) == "۱ فروردین ۱۴۰۵، ۰۰:۳۰"


def test_english_and_arabic_stay_gregorian():
    with translation.override("en"):
        assert format_local_date(dt.date(2026, 11, 26)) == "Nov. 26, 2026"
    with translation.override("ar"):
        assert "2026" in format_local_date(dt.date(2026, 11, 26))


def test_template_filter_and_empty_values():
    template = Template("{% load localdates %}{{ day|localdate }}|{{ missing|localdate }}")

    with translation.override("fa"):
        assert template.render(Context({"day": dt.date(2026, 11, 26)})) == "۵ آذر ۱۴۰۵|"
