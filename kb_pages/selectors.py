"""Reads of the knowledge base. Everything a customer can reach goes through
``articles_visible_to``: live, not behind a view restriction, and internal-only
articles for signed-in agents alone."""

from __future__ import annotations

from django.db.models import Count, F, FloatField, Q, QuerySet
from django.db.models.functions import Cast, Coalesce, NullIf
from wagtail.models import Locale

from kb_pages.models import ArticlePage, KBCategoryPage, user_is_agent
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
    *, query: str, locale: Locale | str | None, user, limit: int = 10
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
    text = " ".join(terms)
    found = list(articles.search(text, operator="and")[:limit])
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
