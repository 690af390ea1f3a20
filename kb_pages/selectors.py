"""Reads of the knowledge base. Everything a customer can reach goes through
``articles_visible_to``: live, not behind a view restriction, and internal-only
articles for signed-in agents alone."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.db.models import Count, F, FloatField, Q, QuerySet
from django.db.models.functions import Cast, Coalesce, NullIf, TruncMonth
from django.utils import timezone
from wagtail import hooks
from wagtail.models import Locale

from kb_pages.deflection import PORTAL_TICKET_COUNTS_HOOK
from kb_pages.models import (
    ArticlePage,
    Deflection,
    KBCategoryPage,
    PortalHomePage,
    user_is_agent,
)
from kb_pages.text import query_terms

SEARCH_LIMIT_MAX = 50


def articles_visible_to(*, user, queryset: QuerySet | None = None) -> QuerySet:
    articles = (ArticlePage.objects.all() if queryset is None else queryset).live().public()
    if not user_is_agent(user):
        articles = articles.filter(internal_only=False)
    return articles.order_by("path")


def categories_visible(*, queryset: QuerySet | None = None) -> QuerySet:
    categories = KBCategoryPage.objects.all() if queryset is None else queryset
    return categories.live().public().order_by("path")


def articles_related(*, article: ArticlePage, user) -> list[ArticlePage]:
    """The editor's related articles, in their order, that this user may see."""
    links = article.related_links.order_by("sort_order")
    related_ids = list(links.values_list("related", flat=True))
    visible = articles_visible_to(
        user=user, queryset=ArticlePage.objects.filter(pk__in=related_ids)
    )
    by_id = {page.pk: page for page in visible}
    return [by_id[pk] for pk in related_ids if pk in by_id]


def articles_search(
    *, query: str, locale: Locale | str | None, user, limit: int = 10, typing: bool = False
) -> list[ArticlePage]:
    """Articles matching ``query`` best first, in ``locale`` (a Locale or a language code;
    None for every language), only those ``user`` may see.

    Runs on Wagtail's database search backend (PostgreSQL full text) over the normalised
    copies ArticlePage indexes, in the current tenant's schema (the index tables live
    there). Every word must match; if none does, any word may, so a whole sentence typed
    into the new-ticket form still finds the article that shares its key words.
    """
    terms = query_terms(query)
    limit = max(0, min(limit, SEARCH_LIMIT_MAX))
    if not terms or not limit:
        return []
    articles = articles_visible_to(user=user).order_by()
    if isinstance(locale, str):
        locale = Locale.objects.filter(language_code=locale).first()
        if locale is None:
            return []
    if locale is not None:
        articles = articles.filter(locale=locale)
    # Lists show title, summary and link: the StreamField body (kilobytes of JSON a row)
    # would otherwise travel through the ranking sort with every match.
    articles = articles.defer("body")
    text = " ".join(terms)
    found = list(articles.search(text, operator="and")[:limit])
    if not found and typing:
        # Someone still typing: the last word may be half a word ("passw"), which full
        # text never matches; titles are indexed for prefixes (AutocompleteField).
        found = list(articles.autocomplete(text)[:limit])
    if not found and len(terms) > 1:
        found = list(articles.search(text, operator="or")[:limit])
    return found


def article_report() -> QuerySet:
    """Every article with its views, yes/no votes and share of "yes" (None before any vote),
    for the admin report: most viewed, least helpful."""
    return (
        ArticlePage.objects.select_related("locale")
        .annotate(
            view_count=Coalesce(F("stats__views"), 0),
            helpful_yes=Count("votes", filter=Q(votes__helpful=True)),
            helpful_no=Count("votes", filter=Q(votes__helpful=False)),
        )
        .annotate(
            helpful_share=Cast(F("helpful_yes"), FloatField())
            / NullIf(F("helpful_yes") + F("helpful_no"), 0)
        )
    )


SUGGEST_LIMIT = 5


@dataclass(frozen=True)
class Suggestion:
    article: ArticlePage
    language: str


def articles_suggest(
    *, query: str, language: str | None, user, limit: int = SUGGEST_LIMIT
) -> list[Suggestion]:
    """The articles to suggest for what someone types into a ticket's subject: in
    ``language`` (a language code; None for every language); when that language has
    nothing (a tenant that writes its KB in English only, a Persian visitor typing an
    English product name), in the tenant's default language."""
    if language is None:
        codes = dict(Locale.objects.values_list("pk", "language_code"))
        return [
            Suggestion(article, codes.get(article.locale_id, ""))
            for article in articles_search(
                query=query, locale=None, user=user, limit=limit, typing=True
            )
        ]
    tried = []
    for code in (language, Locale.get_default().language_code):
        if code in tried:
            continue
        tried.append(code)
        found = articles_search(query=query, locale=code, user=user, limit=limit, typing=True)
        if found:
            return [Suggestion(article, code) for article in found]
    return []


_URL = re.compile(r"https?://[^\s<>\"'\])]+", re.IGNORECASE)


def articles_internal_linked(*, text: str) -> list[ArticlePage]:
    """Internal-only articles that ``text`` links to by URL: a public reply must not send
    customers to pages that answer them with a 404. Matches the path on any host (the
    portal answers on its own domain and on custom ones)."""
    paths = set()
    for url in _URL.findall(text or ""):
        path = unquote(urlsplit(url.rstrip(".,;:!?")).path)
        if path.startswith("/"):
            paths.add(path if path.endswith("/") else path + "/")
    if not paths:
        return []
    roots = PortalHomePage.objects.filter(depth=2).values_list("url_path", flat=True)
    candidates = [root.rstrip("/") + path for root in roots for path in paths]
    return list(
        ArticlePage.objects.filter(internal_only=True, url_path__in=candidates).order_by("path")
    )


@dataclass(frozen=True)
class DeflectionMonth:
    month: dt.date
    deflections: int
    portal_tickets: int | None  # None: no helpdesk told us (see kb_pages.deflection)

    @property
    def rate(self) -> float | None:
        """Deflections / (deflections + tickets opened on the portal) in the month."""
        if self.portal_tickets is None:
            return None
        total = self.deflections + self.portal_tickets
        return self.deflections / total if total else None


def _months_back(first: dt.date, count: int) -> list[dt.date]:
    months = []
    year, month = first.year, first.month
    for _ in range(count):
        months.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def deflection_rate_by_month(*, months: int = 12) -> list[DeflectionMonth]:
    """The last ``months`` calendar months (in the current time zone), newest first."""
    today = timezone.localdate()
    month_starts = _months_back(today.replace(day=1), months)
    oldest = month_starts[-1]
    since = timezone.make_aware(dt.datetime(oldest.year, oldest.month, 1))
    deflections = {
        row["month"].date(): row["count"]
        for row in Deflection.objects.filter(created_at__gte=since)
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(count=Count("id"))
        .order_by()
    }
    counters = hooks.get_hooks(PORTAL_TICKET_COUNTS_HOOK)
    tickets: dict[dt.date, int] | None = None
    if counters:
        tickets = {}
        for counter in counters:
            for month, count in counter(since).items():
                tickets[month] = tickets.get(month, 0) + count
    return [
        DeflectionMonth(
            month=month,
            deflections=deflections.get(month, 0),
            portal_tickets=None if tickets is None else tickets.get(month, 0),
        )
        for month in month_starts
    ]
