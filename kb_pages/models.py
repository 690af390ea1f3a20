"""Wagtail pages of each tenant's portal. Every tenant schema has its own page tree,
rooted at a PortalHomePage that its Site serves on the tenant's domain:

    PortalHomePage -> KBIndexPage -> KBCategoryPage (nestable) -> ArticlePage
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel, PageChooserPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from kb_pages import page_cache
from kb_pages.blocks import ArticleBodyBlock
from kb_pages.text import search_document


def user_is_agent(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_agent", False))


class LocalisedPageMixin:
    """A page speaks its own language: serving it activates its locale, so the portal's
    chrome, ``lang`` and ``dir`` follow the page, whatever the visitor's cookie said."""

    def activate_own_language(self, request) -> None:
        translation.activate(self.locale.language_code)
        request.LANGUAGE_CODE = translation.get_language()

    def serve(self, request, *args, **kwargs):
        self.activate_own_language(request)
        return super().serve(request, *args, **kwargs)

    def serve_preview(self, request, mode_name):
        self.activate_own_language(request)
        return super().serve_preview(request, mode_name)


class PortalHomePage(LocalisedPageMixin, Page):
    """The front page of a tenant's customer portal: a search box, featured categories
    and featured articles."""

    intro = RichTextField(_("introduction"), blank=True)
    featured_categories = ParentalManyToManyField(
        "kb_pages.KBCategoryPage",
        blank=True,
        related_name="+",
        verbose_name=_("featured categories"),
    )
    featured_articles = ParentalManyToManyField(
        "kb_pages.ArticlePage",
        blank=True,
        related_name="+",
        verbose_name=_("featured articles"),
    )

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        FieldPanel("featured_categories"),
        FieldPanel("featured_articles"),
    ]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["kb_pages.KBIndexPage"]
    template = "kb_pages/portal_home_page.html"

    class Meta:
        verbose_name = _("portal home page")
        verbose_name_plural = _("portal home pages")

    @classmethod
    def can_create_at(cls, parent):
        # One portal per tenant: its homes, one per language, come with the schema.
        return super().can_create_at(parent) and not cls.objects.exists()

    def route(self, request, path_components):
        """Routing starts at the home of the visitor's language (Wagtail's ``localized``).
        A path that exists only in another language's tree (an untranslated article, a
        link shared by someone reading Persian) is served from there, in its language."""
        try:
            return super().route(request, path_components)
        except Http404:
            if not path_components:
                raise
        homes = sorted(
            self.get_translations().live().select_related("locale"),
            key=lambda home: home.locale.language_code != settings.LANGUAGE_CODE,
        )
        for home in homes:
            try:
                return Page.route(home, request, path_components)
            except Http404:
                continue
        raise Http404

    def serve(self, request, *args, **kwargs):
        return page_cache.cacheable(super().serve(request, *args, **kwargs))

    def kb_index(self) -> KBIndexPage | None:
        return KBIndexPage.objects.child_of(self).live().first()

    def get_context(self, request, *args, **kwargs):
        from kb_pages import selectors

        context = super().get_context(request, *args, **kwargs)
        context["kb_index"] = self.kb_index()
        context["featured_categories"] = selectors.categories_visible(
            queryset=self.featured_categories.all()
        )
        context["featured_articles"] = selectors.articles_visible_to(
            user=request.user, queryset=self.featured_articles.all()
        )
        return context


class KBIndexPage(LocalisedPageMixin, RoutablePageMixin, Page):
    """The knowledge base's front door: its categories and its search page."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["kb_pages.PortalHomePage"]
    subpage_types = ["kb_pages.KBCategoryPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("knowledge base index")
        verbose_name_plural = _("knowledge base indexes")

    def get_context(self, request, *args, **kwargs):
        from kb_pages import selectors

        context = super().get_context(request, *args, **kwargs)
        context["categories"] = selectors.categories_visible(
            queryset=KBCategoryPage.objects.child_of(self)
        )
        return context

    @path("")
    def index_route(self, request, *args, **kwargs):
        return page_cache.cacheable(super().index_route(request, *args, **kwargs))

    def search_url(self) -> str:
        return self.url + self.reverse_subpage("search")

    @path("search/", name="search")
    def search_route(self, request):
        from kb_pages import views

        return views.search(request, kb_index=self)


class KBCategoryPage(LocalisedPageMixin, Page):
    intro = models.TextField(_("introduction"), blank=True, max_length=500)
    icon = models.CharField(
        _("icon"),
        max_length=8,
        blank=True,
        help_text=_("An emoji or short symbol shown next to the category name."),
    )

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("icon")]
    parent_page_types = ["kb_pages.KBIndexPage", "kb_pages.KBCategoryPage"]
    subpage_types = ["kb_pages.KBCategoryPage", "kb_pages.ArticlePage"]

    class Meta:
        verbose_name = _("knowledge base category")
        verbose_name_plural = _("knowledge base categories")

    def serve(self, request, *args, **kwargs):
        return page_cache.cacheable(super().serve(request, *args, **kwargs))

    def get_context(self, request, *args, **kwargs):
        from kb_pages import selectors

        context = super().get_context(request, *args, **kwargs)
        context["subcategories"] = selectors.categories_visible(
            queryset=KBCategoryPage.objects.child_of(self)
        )
        context["articles"] = selectors.articles_visible_to(
            user=request.user, queryset=ArticlePage.objects.child_of(self)
        )
        return context


class ArticlePageTag(TaggedItemBase):
    content_object = ParentalKey(
        "kb_pages.ArticlePage", related_name="tagged_items", on_delete=models.CASCADE
    )


class ArticlePage(LocalisedPageMixin, RoutablePageMixin, Page):
    summary = models.TextField(
        _("summary"),
        blank=True,
        max_length=300,
        help_text=_("One or two sentences shown in listings and search results."),
    )
    body = StreamField(ArticleBodyBlock(), blank=True, verbose_name=_("body"))
    tags = ClusterTaggableManager(through=ArticlePageTag, blank=True, verbose_name=_("tags"))
    internal_only = models.BooleanField(
        _("internal only"),
        default=False,
        help_text=_("Only signed-in agents can see this article, in listings and in search."),
    )

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("body"),
        MultiFieldPanel(
            [FieldPanel("tags"), FieldPanel("internal_only")],
            heading=_("Audience and tags"),
        ),
        InlinePanel("related_links", label=_("Related articles")),
    ]
    parent_page_types = ["kb_pages.KBCategoryPage"]
    subpage_types: list[str] = []

    # Wagtail's own fields keep the admin's page search working; the portal searches the
    # normalised copies (see kb_pages.text), which fold what Persian and Arabic keyboards
    # type differently.
    search_fields = Page.search_fields + [
        index.SearchField("search_title", boost=3),
        index.SearchField("search_text"),
        index.AutocompleteField("search_title"),
        index.FilterField("internal_only"),
    ]

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")

    @property
    def search_title(self) -> str:
        return search_document(self.title)

    @property
    def search_text(self) -> str:
        body = self.body.stream_block.get_searchable_content(self.body)
        tags = [tag.name for tag in self.tags.all()]
        return search_document(self.summary, *body, *tags)

    def visible_to(self, user) -> bool:
        return not self.internal_only or user_is_agent(user)

    def serve(self, request, *args, **kwargs):
        # The same 404 as a missing page: customers don't learn internal articles exist.
        # Every route of the article (its feedback too) passes through here.
        if not self.visible_to(request.user):
            raise Http404
        return super().serve(request, *args, **kwargs)

    @path("")
    def index_route(self, request, *args, **kwargs):
        from kb_pages import services

        if request.method == "GET" and not getattr(request, "is_preview", False):
            services.article_record_view(article_id=self.pk)
        return page_cache.cacheable(
            super().index_route(request, *args, **kwargs), article_id=self.pk
        )

    @path("feedback/", name="feedback")
    def feedback_route(self, request):
        from kb_pages import views

        return views.article_feedback(request, article=self)

    def feedback_url(self) -> str:
        return self.url + self.reverse_subpage("feedback")

    def get_context(self, request, *args, **kwargs):
        from kb_pages import selectors
        from kb_pages.forms import ArticleFeedbackForm

        context = super().get_context(request, *args, **kwargs)
        context["related_articles"] = selectors.articles_related(article=self, user=request.user)
        context["category"] = self.get_parent().specific
        context.setdefault("feedback_form", ArticleFeedbackForm())
        return context


class ArticleRelatedLink(Orderable):
    article = ParentalKey(ArticlePage, related_name="related_links", on_delete=models.CASCADE)
    related = models.ForeignKey(
        ArticlePage,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("related article"),
    )

    panels = [PageChooserPanel("related", page_type="kb_pages.ArticlePage")]

    class Meta(Orderable.Meta):
        verbose_name = _("related article")
        verbose_name_plural = _("related articles")


class ArticleStats(models.Model):
    """One narrow row per article, kept off the page row.

    Counters: a view must not touch the page (or its revisions), and publishing a
    revision must not overwrite the count. Listing facts: whether the article is live, its
    language and audience, copied from the page whenever it is published or unpublished
    (kb_pages.services.article_listing_sync), so the portal's search filters and orders
    its matches on this row instead of joining the page tables for each of them."""

    article = models.OneToOneField(
        ArticlePage, primary_key=True, on_delete=models.CASCADE, related_name="stats"
    )
    views = models.PositiveBigIntegerField(_("views"), default=0)
    last_viewed_at = models.DateTimeField(_("last viewed"), null=True, blank=True)
    live = models.BooleanField(_("live"), default=False, db_default=False)
    locale = models.ForeignKey(
        "wagtailcore.Locale",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("language"),
    )
    internal_only = models.BooleanField(_("internal only"), default=False, db_default=False)

    class Meta:
        verbose_name = _("article statistics")
        verbose_name_plural = _("article statistics")

    def __str__(self) -> str:
        return f"{self.article_id}: {self.views}"


class ArticleVote(models.Model):
    """One "Was this helpful?" answer per reader per article; answering again replaces it.
    ``voter_key`` is "user:<id>" for signed-in readers, "session:<key>" for the others."""

    article = models.ForeignKey(
        ArticlePage, on_delete=models.CASCADE, related_name="votes", verbose_name=_("article")
    )
    voter_key = models.CharField(max_length=80, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    helpful = models.BooleanField(_("helpful"))
    comment = models.TextField(_("comment"), blank=True, max_length=1000)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("article vote")
        verbose_name_plural = _("article votes")
        constraints = [
            models.UniqueConstraint(
                fields=["article", "voter_key"], name="kb_pages_one_vote_per_reader"
            )
        ]
        indexes = [models.Index(fields=["article", "helpful"], name="kb_vote_article_helpful")]

    def __str__(self) -> str:
        return f"{self.article_id}: {'+' if self.helpful else '-'}"


class Deflection(models.Model):
    """A new-ticket form that ended without a ticket: the customer said a suggested article
    answered their question. One row per form session (``form_key``, from the signed token
    the form was rendered with), however often its button is pressed."""

    form_key = models.CharField(max_length=64, unique=True, editable=False)
    article = models.ForeignKey(
        ArticlePage,
        null=True,
        on_delete=models.SET_NULL,
        related_name="deflections",
        verbose_name=_("article"),
    )
    language = models.CharField(_("language"), max_length=10)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    session_key = models.CharField(max_length=40, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("deflected ticket")
        verbose_name_plural = _("deflected tickets")

    def __str__(self) -> str:
        return f"{self.article_id} {self.created_at:%Y-%m-%d}"
