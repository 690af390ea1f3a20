"""Wagtail pages of each tenant's portal. Every tenant schema has its own page tree,
rooted at a PortalHomePage that its Site serves on the tenant's domain."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page


class PortalHomePage(Page):
    """The front page of a tenant's customer portal."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1
    template = "kb_pages/portal_home_page.html"

    class Meta:
        verbose_name = _("portal home page")
        verbose_name_plural = _("portal home pages")
