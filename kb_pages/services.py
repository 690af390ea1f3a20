"""Writes on the portal's Wagtail pages and Site. Called inside the tenant's schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Locale, Site
from wagtail.search import index

from kb_pages.forms import COMMENT_MAX_LENGTH
from kb_pages.models import ArticlePage, ArticleStats, ArticleVote, PortalHomePage

if TYPE_CHECKING:
    from tenants.models import Tenant
    from tenants.provisioning import OwnerDetails


@transaction.atomic
def site_bind_to_tenant(*, tenant: Tenant, owner: OwnerDetails | None = None) -> Site:
    """Setup step of a new tenant: its Site answers on its primary domain, its homes (one
    per language, see migration 0004) carry its name. The cloned template holds one Site
    rooted at the English home."""
    site = Site.objects.select_related("root_page").get(is_default_site=True)
    homes = list(PortalHomePage.objects.filter(depth=2))
    renamed = [home for home in homes if home.title != tenant.name]
    if renamed:
        # A title change touches no references, so skip Page.save()'s reference-index
        # and revision work (two thirds of signup time) and re-index search directly.
        PortalHomePage.objects.filter(pk__in=[home.pk for home in renamed]).update(
            title=tenant.name, draft_title=tenant.name
        )
        for home in renamed:
            home.title = home.draft_title = tenant.name
            index.insert_or_update_object(home)
    home = next((home for home in homes if home.pk == site.root_page_id), None)
    if home is None:
        home = next(home for home in homes if home.locale_id == Locale.get_default().pk)
    site.hostname = tenant.get_primary_domain().domain
    site.port = 80
    site.site_name = tenant.name
    site.root_page = home
    site.save()
    return site


def article_record_view(*, article: ArticlePage) -> None:
    """Count one view: a single upsert on the counter row, no page save, no revision."""
    table = connection.ops.quote_name(ArticleStats._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (article_id, views, last_viewed_at) VALUES (%s, 1, %s)"
            f" ON CONFLICT (article_id) DO UPDATE"
            f" SET views = {table}.views + 1, last_viewed_at = EXCLUDED.last_viewed_at",
            [article.pk, timezone.now()],
        )


def article_vote(
    *, article: ArticlePage, helpful: bool, comment: str = "", user=None, session_key: str = ""
) -> ArticleVote:
    """Record a reader's "Was this helpful?" answer; a second answer replaces the first."""
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            _("Please keep your comment under %(limit)d characters.")
            % {"limit": COMMENT_MAX_LENGTH},
            code="too_long",
        )
    signed_in = bool(user is not None and user.is_authenticated)
    if signed_in:
        voter_key = f"user:{user.pk}"
    elif session_key:
        voter_key = f"session:{session_key}"
    else:
        raise ValidationError(_("Your browser must accept cookies to vote."), code="no_session")
    values = {"helpful": helpful, "comment": comment, "user": user if signed_in else None}
    for attempt in range(2):
        try:
            with transaction.atomic():
                vote, _created = ArticleVote.objects.update_or_create(
                    article=article, voter_key=voter_key, defaults=values
                )
            return vote
        except IntegrityError:
            # Two answers from the same reader at once: the other one created the row.
            if attempt:
                raise
    raise AssertionError("unreachable")
