"""Writes on the portal's Wagtail pages and Site. Called inside the tenant's schema."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.text import Truncator, slugify
from django.utils.translation import gettext as _
from wagtail.log_actions import log
from wagtail.models import Locale, Page, Site
from wagtail.search import index

from kb_pages.forms import COMMENT_MAX_LENGTH
from kb_pages.models import (
    ArticlePage,
    ArticleStats,
    ArticleVote,
    Deflection,
    KBCategoryPage,
    KBIndexPage,
    PortalHomePage,
)
from kb_pages.scrub import scrub_personal_data
from kb_pages.text import script_language

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


def article_record_view(*, article_id: int) -> None:
    """Count one view: a single upsert on the counter row, no page save, no revision (and
    no page load: the page cache counts views of pages it serves without one, so the
    article may be gone by now; then nothing is counted)."""
    stats = connection.ops.quote_name(ArticleStats._meta.db_table)
    articles = connection.ops.quote_name(ArticlePage._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {stats} (article_id, views, last_viewed_at, live, internal_only)"
            f" SELECT page_ptr_id, 1, %s, false, internal_only FROM {articles}"
            f" WHERE page_ptr_id = %s"
            f" ON CONFLICT (article_id) DO UPDATE"
            f" SET views = {stats}.views + 1, last_viewed_at = EXCLUDED.last_viewed_at",
            [timezone.now(), article_id],
        )


def article_listing_sync(*, article_id: int) -> None:
    """Copy what the portal's search filters on (live, language, audience) from the
    article's page rows, as the database has them now, to its ArticleStats row. Runs on
    every save of the page, publish and unpublish (an in-memory page may hold a draft's
    values, so they are not taken from it)."""
    stats = connection.ops.quote_name(ArticleStats._meta.db_table)
    articles = connection.ops.quote_name(ArticlePage._meta.db_table)
    pages = connection.ops.quote_name(Page._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {stats} (article_id, views, live, locale_id, internal_only)"
            f" SELECT a.page_ptr_id, 0, p.live, p.locale_id, a.internal_only"
            f" FROM {articles} a JOIN {pages} p ON p.id = a.page_ptr_id"
            f" WHERE a.page_ptr_id = %s"
            f" ON CONFLICT (article_id) DO UPDATE SET live = EXCLUDED.live,"
            f" locale_id = EXCLUDED.locale_id, internal_only = EXCLUDED.internal_only",
            [article_id],
        )


def _listing_changed(sender, instance, **kwargs) -> None:
    article_listing_sync(article_id=instance.pk)


def connect_signals() -> None:
    from django.db.models.signals import post_save
    from wagtail.signals import page_published, page_unpublished

    for signal in (page_published, page_unpublished, post_save):
        signal.connect(_listing_changed, sender=ArticlePage, dispatch_uid="kb_pages.listing")


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


def deflection_record(
    *, form_key: str, article: ArticlePage, language: str, user=None, session_key: str = ""
) -> tuple[Deflection, bool]:
    """Count a new-ticket form that ended because ``article`` answered the question.
    Once per form session: a second press (or a second article) in the same form returns
    the first record and False."""
    signed_in = bool(user is not None and user.is_authenticated)
    defaults = {
        "article": article,
        "language": language[:10],
        "user": user if signed_in else None,
        "session_key": "" if signed_in else (session_key or "")[:40],
    }
    for attempt in range(2):
        try:
            with transaction.atomic():
                return Deflection.objects.get_or_create(form_key=form_key, defaults=defaults)
        except IntegrityError:
            # The same form pressed twice at once: the other request wrote the row.
            if attempt:
                raise
    raise AssertionError("unreachable")


DRAFTS_CATEGORY_SLUG = "drafts-from-tickets"
DRAFT_TITLE_MAX_LENGTH = 200
DRAFT_SLUG_MAX_LENGTH = 60


def _kb_index_for(language: str) -> KBIndexPage:
    for code in (language, Locale.get_default().language_code):
        index = (
            KBIndexPage.objects.filter(locale__language_code=code, depth=3).order_by("path").first()
        )
        if index is not None:
            return index
    raise ValidationError(_("This help centre has no knowledge base to add the article to."))


def _drafts_category(index: KBIndexPage, author) -> KBCategoryPage:
    """Drafts from tickets wait in their own category, never published: the editor moves
    each one where it belongs when reviewing it."""
    category = KBCategoryPage.objects.child_of(index).filter(slug=DRAFTS_CATEGORY_SLUG).first()
    if category is not None:
        return category
    category = KBCategoryPage(
        title=_("Drafts from tickets"),
        slug=DRAFTS_CATEGORY_SLUG,
        intro=_("Articles drafted from resolved tickets, waiting for review."),
        locale=index.locale,
        live=False,
        owner=author,
    )
    index.add_child(instance=category)
    category.save_revision(user=author)
    return category


def _free_slug(parent, title: str) -> str:
    base = slugify(title, allow_unicode=True)[:DRAFT_SLUG_MAX_LENGTH].strip("-") or "article"
    taken = set(parent.get_children().filter(slug__startswith=base).values_list("slug", flat=True))
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


def _paragraphs(text: str) -> str:
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n")]
    return "".join(
        "<p>" + "<br/>".join(html.escape(line) for line in block.split("\n")) + "</p>"
        for block in blocks
        if block
    )


@transaction.atomic
def article_draft_from_ticket(
    *,
    subject: str,
    question: str,
    answer: str,
    language: str = "",
    names: list[str] | tuple[str, ...] = (),
    codes: list[str] | tuple[str, ...] = (),
    author,
) -> ArticlePage:
    """An unpublished article (a draft revision, not live) made from a resolved ticket:
    the question (subject and the customer's first message) and the accepted answer,
    with personal data replaced by placeholders for the agent to review. Plain data in,
    so the knowledge base needs to know nothing about tickets.

    It goes under the KB index of ``language`` (or the language the text is written in,
    or the default language), in that index's "Drafts from tickets" category."""
    if not answer.strip():
        raise ValidationError(_("There is no answer to turn into an article."))
    known = {code for code, _name in settings.LANGUAGES}
    if language not in known:
        language = script_language(f"{subject} {question} {answer}") or ""
    index = _kb_index_for(language or Locale.get_default().language_code)
    language = index.locale.language_code

    def scrub(text: str) -> str:
        return scrub_personal_data(text, names=names, codes=codes).strip()

    question_text, answer_text = scrub(question), scrub(answer)
    with translation.override(language):
        title = Truncator(" ".join(scrub(subject).split())).chars(DRAFT_TITLE_MAX_LENGTH)
        title = title or _("Question from a ticket")
        # Outside the f-strings: xgettext does not find _() calls inside them.
        question_heading, answer_heading = _("Question"), _("Answer")
        body = [
            {
                "type": "text",
                "value": f"<h2>{html.escape(question_heading)}</h2>{_paragraphs(question_text)}",
            },
            {
                "type": "text",
                "value": f"<h2>{html.escape(answer_heading)}</h2>{_paragraphs(answer_text)}",
            },
        ]
        category = _drafts_category(index, author)
    article = ArticlePage(
        title=title,
        slug=_free_slug(category, title),
        summary=Truncator(" ".join(question_text.split())).chars(300),
        body=body,
        locale=index.locale,
        live=False,
        owner=author,
    )
    category.add_child(instance=article)
    article.save_revision(user=author)
    log(instance=article, action="wagtail.create", user=author)
    return article
