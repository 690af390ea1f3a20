from __future__ import annotations

from django import template
from django.conf import settings
from django.utils import translation
from wagtail.models import Page

register = template.Library()


@register.simple_tag(takes_context=True)
def language_choices(context) -> list[dict]:
    """The portal's languages, each with the address to land on after switching: the
    current page's live translation when it has one, else the current address."""
    request = context.get("request")
    here = request.get_full_path() if request is not None else "/"
    page = context.get("page")
    translations: dict[str, Page] = {}
    if isinstance(page, Page) and getattr(settings, "WAGTAIL_I18N_ENABLED", False):
        for candidate in page.get_translations(inclusive=True).live().select_related("locale"):
            translations[candidate.locale.language_code] = candidate
    current = translation.get_language()
    choices = []
    for code, _name in settings.LANGUAGES:
        target = translations.get(code)
        url = target.get_url(request) if target is not None else None
        choices.append(
            {
                "code": code,
                "name_local": translation.get_language_info(code)["name_local"],
                "next": url or here,
                "selected": code == current,
            }
        )
    return choices
