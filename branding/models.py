"""The tenant's brand, edited in its Wagtail admin under Settings."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.images import get_image_model_string

from branding.forms import BrandSettingsForm
from branding.validation import (
    FAVICON_RULES,
    LOGO_RULES,
    validate_brand_image,
    validate_hex_colour,
)


def language_choices():
    return settings.LANGUAGES


@register_setting(icon="image")
class BrandSettings(BaseSiteSetting):
    """Plain text and validated values only: nothing here is ever rendered as HTML."""

    portal_name = models.CharField(
        _("portal name"),
        max_length=80,
        blank=True,
        help_text=_(
            "Shown in the portal header, page titles and emails. "
            "Leave empty to use the organisation's name."
        ),
    )
    logo = models.ForeignKey(
        get_image_model_string(),
        verbose_name=_("logo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("PNG, JPEG, GIF, WebP or AVIF, at most 1 MB and 2000 pixels a side."),
    )
    favicon = models.ForeignKey(
        get_image_model_string(),
        verbose_name=_("favicon"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("A square image, 16 to 1024 pixels a side, at most 256 KB."),
    )
    primary_colour = models.CharField(
        _("primary colour"),
        max_length=7,
        blank=True,
        validators=[validate_hex_colour],
        help_text=_("Links and buttons, as #rrggbb (for example #2454c5)."),
    )
    accent_colour = models.CharField(
        _("accent colour"),
        max_length=7,
        blank=True,
        validators=[validate_hex_colour],
        help_text=_("Highlights, as #rrggbb (for example #f59e0b)."),
    )
    default_language = models.CharField(
        _("default language"),
        max_length=8,
        choices=language_choices,
        default="en",
        help_text=_(
            "For visitors who have not chosen a language and whose browser "
            "asks for none that the portal offers."
        ),
    )
    email_header = models.TextField(
        _("email header"),
        max_length=500,
        blank=True,
        help_text=_("Plain text above every email."),
    )
    email_footer = models.TextField(
        _("email footer"),
        max_length=1000,
        blank=True,
        help_text=_("Plain text at the bottom of every email, e.g. your address."),
    )
    email_signature = models.TextField(
        _("email signature"),
        max_length=1000,
        blank=True,
        help_text=_("Plain text after the message, e.g. “The Acme support team”."),
    )

    select_related = ["logo", "favicon"]
    base_form_class = BrandSettingsForm

    panels = [
        MultiFieldPanel(
            [FieldPanel("portal_name"), FieldPanel("logo"), FieldPanel("favicon")],
            heading=_("Portal"),
        ),
        MultiFieldPanel(
            [FieldPanel("primary_colour"), FieldPanel("accent_colour")],
            heading=_("Colours"),
        ),
        FieldPanel("default_language"),
        MultiFieldPanel(
            [FieldPanel("email_header"), FieldPanel("email_signature"), FieldPanel("email_footer")],
            heading=_("Emails"),
        ),
    ]

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brand")
        permissions = [("manage_custom_domains", _("Can manage custom domains"))]

    def clean(self) -> None:
        super().clean()
        self.primary_colour = self.primary_colour.lower()
        self.accent_colour = self.accent_colour.lower()
        errors = {}
        for field, rules in (("logo", LOGO_RULES), ("favicon", FAVICON_RULES)):
            image = getattr(self, field)
            if image is not None:
                try:
                    validate_brand_image(image, rules)
                except ValidationError as error:
                    errors[field] = error
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:
        from branding.services import brand_cache_clear
        from kb_pages.page_cache import page_cache_clear
        from tenants.context import current_schema_name

        super().save(*args, **kwargs)
        brand_cache_clear(schema_name=current_schema_name())
        # After the brand's own after-commit delete: a page rendered in between would
        # otherwise keep the old brand under the new generation.
        page_cache_clear()
