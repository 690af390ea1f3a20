"""The tenant's default language for visitors who have not chosen one.

Django's LocaleMiddleware falls back to the one LANGUAGE_CODE of the whole platform; a
Persian company wants its Persian portal for a visitor with no language cookie and no
Accept-Language we offer. Placed right after LocaleMiddleware.
"""

from __future__ import annotations

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from branding.selectors import brand_for_request


def _supported(code: str | None) -> bool:
    if not code:
        return False
    try:
        translation.get_supported_language_variant(code)
    except LookupError:
        return False
    return True


def visitor_chose_language(request) -> bool:
    """True when LocaleMiddleware found the language in the URL, cookie or Accept-Language."""
    urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
    if is_language_prefix_patterns_used(urlconf)[0] and translation.get_language_from_path(
        request.path_info
    ):
        return True
    if _supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)):
        return True
    for code, _quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        if code == "*":
            break
        if _supported(code):
            return True
    return False


class TenantDefaultLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not visitor_chose_language(request):
            brand = brand_for_request(request)
            if brand is not None and brand.default_language != translation.get_language():
                translation.activate(brand.default_language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
