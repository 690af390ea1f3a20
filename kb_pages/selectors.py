"""Reads of the knowledge base. Everything a customer can reach goes through
``articles_visible_to``: live, not behind a view restriction, and internal-only
articles for signed-in agents alone."""

from __future__ import annotations

from django.db.models import QuerySet

from kb_pages.models import ArticlePage, KBCategoryPage, user_is_agent


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
