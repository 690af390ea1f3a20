"""Reads of the knowledge base. Everything a customer can reach goes through
``articles_visible_to``: live, not behind a view restriction, and internal-only
articles for signed-in agents alone."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import partial
from urllib.parse import unquote, urlsplit

from django.db import connection
from django.db.models import Count, F, FloatField, Q, QuerySet
from django.db.models.functions import Cast, Coalesce, NullIf, TruncMonth
from django.utils import timezone
from wagtail import hooks
from wagtail.models import Locale, PageViewRestriction

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


def articles_visible_to(
    *, user, queryset: QuerySet | None = None, privacy_settings: bool = True
) -> QuerySet:
    """``privacy_settings=False`` only when the caller knows the tenant has none (their
    check is one more query)."""
    articles = (ArticlePage.objects.all() if queryset is None else queryset).live()
    if privacy_settings:
        articles = articles.public()
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


# Matches ranked in full, at most: a common word matches thousands of articles, and
# ranking each (its body vector read and scored) cost 60-100 ms on 10,000 articles.
RANK_CANDIDATES = 200

# Wagtail's database search index (modelsearch's IndexEntry, written on every page save:
# title and body vectors of the normalised copies ArticlePage indexes), joined to the
# article's narrow ArticleStats row for live, language, audience and views. Matching uses
# the GIN index on (title || body) (migration 0007), or Wagtail's own on the title alone.
# Ranking is Wagtail's (title rank times its norm, plus body rank), over RANK_CANDIDATES
# matches: those with the words in their title first, then the most viewed.
_SEARCH_SQL = """
WITH candidates AS (
    SELECT e.id, s.article_id
    FROM wagtailsearch_indexentry e
    JOIN kb_pages_articlestats s ON e.object_id = s.article_id::varchar(50)
    WHERE e.content_type_id = (
        SELECT id FROM django_content_type WHERE app_label = 'kb_pages' AND model = 'articlepage'
    )
      AND {match} @@ to_tsquery(%(query)s)
      AND s.live {filters}
    ORDER BY e.title @@ to_tsquery(%(query)s) DESC, s.views DESC, s.article_id DESC
    LIMIT %(candidates)s
)
SELECT c.article_id
FROM candidates c JOIN wagtailsearch_indexentry e ON e.id = c.id
ORDER BY ts_rank(e.title, to_tsquery(%(query)s)) * e.title_norm
         + ts_rank(e.body, to_tsquery(%(query)s)) DESC,
         c.article_id DESC
LIMIT %(limit)s
"""

# Titles as typed: the index's autocomplete vector (the title, "simple" configuration),
# the last word a prefix. Title vectors are small; no candidate cap is needed.
_TITLES_SQL = """
SELECT s.article_id
FROM wagtailsearch_indexentry e
JOIN kb_pages_articlestats s ON e.object_id = s.article_id::varchar(50)
WHERE e.content_type_id = (
    SELECT id FROM django_content_type WHERE app_label = 'kb_pages' AND model = 'articlepage'
)
  AND e.autocomplete @@ to_tsquery('simple', %(query)s)
  AND s.live {filters}
ORDER BY ts_rank(e.autocomplete, to_tsquery('simple', %(query)s)) DESC,
         s.views DESC, s.article_id DESC
LIMIT %(limit)s
"""


def _tsquery(terms: list[str], *, operator: str = "&", prefix: bool = False) -> str:
    """A to_tsquery() string of ``terms``, each quoted (the terms are normalised words,
    but a quote or backslash must still not change the query's syntax)."""
    quoted = ["'" + term.replace("\\", "\\\\").replace("'", "''") + "'" for term in terms]
    if prefix:
        quoted[-1] += ":*"
    return f" {operator} ".join(quoted)


_TITLE_AND_BODY = "(e.title || e.body)"
_TITLE = "e.title"


def _ranked_ids(
    sql: str,
    *,
    query: str,
    locale_id: int | None,
    agent: bool,
    limit: int,
    restricted: list[str],
    match: str = _TITLE_AND_BODY,
) -> list[int]:
    filters = ""
    params = {
        "query": query,
        "candidates": RANK_CANDIDATES,
        "limit": limit,
    }
    if locale_id is not None:
        filters += " AND s.locale_id = %(locale)s"
        params["locale"] = locale_id
    if not agent:
        filters += " AND NOT s.internal_only"
    if restricted:  # behind a privacy setting (password, sign-in, groups): never listed
        filters += (
            " AND NOT EXISTS (SELECT 1 FROM wagtailcore_page p"
            " WHERE p.id = s.article_id AND p.path LIKE ANY(%(restricted)s))"
        )
        params["restricted"] = restricted
    with connection.cursor() as cursor:
        cursor.execute(sql.format(filters=filters, match=match), params)
        return [row[0] for row in cursor.fetchall()]


def articles_search(
    *, query: str, locale: Locale | str | None, user, limit: int = 10, typing: bool = False
) -> list[ArticlePage]:
    """Articles matching ``query`` best first, in ``locale`` (a Locale or a language code;
    None for every language), only those ``user`` may see.

    Runs on Wagtail's database search index (PostgreSQL full text) over the normalised
    copies ArticlePage indexes, in the current tenant's schema (the index tables live
    there). Every word must match; someone ``typing`` may have half a word last, which
    titles match as a prefix; if nothing matches, any word may, so a whole sentence typed
    into the new-ticket form still finds the article that shares its key words.
    """
    terms = query_terms(query)
    limit = max(0, min(limit, SEARCH_LIMIT_MAX))
    if not terms or not limit:
        return []
    locale_id = None
    if isinstance(locale, str):
        locale_id = Locale.objects.filter(language_code=locale).values_list("pk", flat=True).first()
        if locale_id is None:
            return []
    elif locale is not None:
        locale_id = locale.pk
    restricted = [
        path + "%" for path in PageViewRestriction.objects.values_list("page__path", flat=True)
    ]
    search = partial(
        _ranked_ids,
        locale_id=locale_id,
        agent=user_is_agent(user),
        limit=limit,
        restricted=restricted,
    )
    ids = search(_SEARCH_SQL, query=_tsquery(terms))
    if not ids and typing:
        ids = search(_TITLES_SQL, query=_tsquery(terms, prefix=True))
    if not ids and len(terms) > 1:
        # Any word: a whole sentence shares a common word with most articles, so titles
        # that have some of its words answer first, and bodies only when they are too few.
        any_word = _tsquery(terms, operator="|")
        ids = search(_SEARCH_SQL, query=any_word, match=_TITLE)
        if len(ids) < limit:
            ids = search(_SEARCH_SQL, query=any_word)
    if not ids:
        return []
    # The pages themselves, through the same visibility rules as every other listing (a
    # privacy restriction, say, is not on the stats row). Lists show title, summary and
    # link: the StreamField body stays behind.
    found = articles_visible_to(
        user=user,
        queryset=ArticlePage.objects.filter(pk__in=ids),
        privacy_settings=bool(restricted),
    )
    by_id = {article.pk: article for article in found.defer("body").order_by()}
    return [by_id[pk] for pk in ids if pk in by_id]


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
