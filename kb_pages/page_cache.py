"""A whole-page cache for the portal's Wagtail pages, per tenant.

Anonymous readers of the portal and the knowledge base all get the same HTML for a
page, so the first one's rendering is kept and the next ones skip Wagtail's routing
(a child lookup and a ``.specific`` per level), the page's queries and the templates.

- **Who**: GET and HEAD requests without a session cookie and without a pending flash
  message. Signed-in customers and agents (their name in the header, internal articles)
  are always rendered.
- **What**: only responses a page marked with :func:`cacheable` (portal home, KB index,
  categories, an article's own route; never search results, previews or forms' answers),
  status 200.
- **Keys**: the schema (django-tenants' cache key function), a generation, and the
  host, full path and the visitor's language (the portal's home routes by language).
- **Invalidation**: a new generation for the tenant after any publish, unpublish, move
  or delete of a page, a privacy change, a site setting (branding), an image or a
  document saved or deleted: old keys are never read again and expire. Entries also
  expire after ``KB_PAGE_CACHE_SECONDS``, which bounds what a missed signal could leave.
- **CSRF**: the feedback form's token is cut out before storing and a fresh one for the
  reader is put back on every hit, so the cached page never carries someone else's.
- **Views**: a hit on an article still counts its view.

wagtail-cache, the usual package for this, supports Wagtail below 8 only, purges the
whole cache backend (every tenant) or single URLs, stores pages with a CSRF token per
cookie (no sharing between readers) and would skip the view counter.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import translation

from tenants.context import in_tenant_schema, tenant_schema

GENERATION_KEY = "kb:page-cache:v1:generation"
_KEY_PREFIX = "kb:page-cache:v1:page"
_MARK_ATTRIBUTE = "kb_page_cache"
# NUL cannot occur in a page (PostgreSQL text refuses it), so the mark is unambiguous.
_TOKEN_MARK = b"\x00csrf\x00"
_TOKEN_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"')


@dataclass(frozen=True)
class _Mark:
    article_id: int | None


@dataclass(frozen=True)
class CachedPage:
    content: bytes
    content_type: str
    language: str
    article_id: int | None


def cacheable(response, *, article_id: int | None = None):
    """Let the page cache keep ``response`` (for anonymous readers); with ``article_id``,
    every hit counts a view of that article."""
    setattr(response, _MARK_ATTRIBUTE, _Mark(article_id))
    return response


def _seconds() -> int:
    return int(getattr(settings, "KB_PAGE_CACHE_SECONDS", 0) or 0)


def _request_cacheable(request) -> bool:
    if request.method not in ("GET", "HEAD") or not _seconds() or not in_tenant_schema():
        return False
    # None of the cached pages reads a query string: a "?x=1" variant would only be a
    # way to fill the cache (and push out the login rate-limit counters beside it).
    if request.META.get("QUERY_STRING") or "authorization" in request.headers:
        return False
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and CookieStorage.cookie_name not in cookies


def _generation() -> str:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        # Never fall back to a fixed value: after an eviction, pages stored under an
        # older generation must not become readable again.
        cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
        generation = cache.get(GENERATION_KEY)
    return generation or uuid.uuid4().hex


def _key(request, generation: str, language: str) -> str:
    where = f"{request.get_host().lower()}\n{request.path}\n{language}"
    return f"{_KEY_PREFIX}:{generation}:{hashlib.sha256(where.encode()).hexdigest()}"


def _bump(schema_name: str) -> None:
    with tenant_schema(schema_name):  # django-tenants puts the schema in the key
        cache.set(GENERATION_KEY, uuid.uuid4().hex, None)


def page_cache_clear(*, schema_name: str | None = None) -> None:
    """Forget every cached page of a tenant (the current one by default) once the
    transaction commits: a reader between now and then would store the old page under
    the new generation. One new generation per transaction, however many rows changed."""
    schema_name = schema_name or connection.schema_name

    def bump() -> None:
        _bump(schema_name)

    bump.page_cache_schema = schema_name  # type: ignore[attr-defined]
    transaction.on_commit(bump)


def tenant_page_cache_reset(*, tenant, owner=None) -> None:
    """A tenant setup step: a new tenant may get the schema name and host of a deleted
    one, whose pages may still be cached; a fresh generation hides them."""
    _bump(tenant.schema_name)
    page_cache_clear(schema_name=tenant.schema_name)


def _from_cache(request, cached: CachedPage) -> HttpResponse:
    content = cached.content
    if _TOKEN_MARK in content:
        content = content.replace(_TOKEN_MARK, get_token(request).encode())
    if cached.article_id is not None and request.method == "GET":
        from kb_pages import services

        services.article_record_view(article_id=cached.article_id)
    # The page spoke its own language when it was rendered; LocaleMiddleware's
    # Content-Language on the way out must say the same.
    translation.activate(cached.language)
    request.LANGUAGE_CODE = cached.language
    response = HttpResponse(content, content_type=cached.content_type)
    response["X-Page-Cache"] = "hit"
    return response


def _to_cache(request, response, mark: _Mark) -> CachedPage | None:
    if response.status_code != 200 or response.streaming or response.cookies:
        return None
    control = response.get("Cache-Control", "")
    if "private" in control or "no-store" in control:
        return None
    content = response.content
    tokens = set(_TOKEN_FIELD.findall(content))
    if not tokens and request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return None  # a token went into the page some other way: not shareable
    for token in tokens:
        content = content.replace(token, _TOKEN_MARK)
    return CachedPage(
        content=content,
        content_type=response["Content-Type"],
        language=translation.get_language() or settings.LANGUAGE_CODE,
        article_id=mark.article_id,
    )


def _request_touched(request) -> bool:
    """Whether this rendering carried something of this reader's own: a session write, a
    flash message, or a CSRF token in a form the token pattern does not know."""
    session = getattr(request, "session", None)
    if session is not None and session.modified:
        return True
    storage = getattr(request, "_messages", None)
    if storage is not None and getattr(storage, "_queued_messages", None):
        return True
    return False


class PageCacheMiddleware:
    """Serves and stores cached pages; last in MIDDLEWARE, after the tenant, session,
    language, CSRF and authentication middleware have run."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _request_cacheable(request):
            return self.get_response(request)
        generation = _generation()
        key = _key(request, generation, translation.get_language() or settings.LANGUAGE_CODE)
        cached = cache.get(key)
        if isinstance(cached, CachedPage):
            return _from_cache(request, cached)
        response = self.get_response(request)
        mark = getattr(response, _MARK_ATTRIBUTE, None)
        if (
            mark is not None
            and not getattr(request, "is_preview", False)
            and not getattr(request.user, "is_authenticated", False)
            and not _request_touched(request)
        ):
            entry = _to_cache(request, response, mark)
            if entry is not None:
                cache.set(key, entry, _seconds())
                response["X-Page-Cache"] = "miss"
        return response


def _changed(**kwargs) -> None:
    if in_tenant_schema():
        page_cache_clear()


def connect_signals() -> None:
    """Everything a cached page shows: pages (their tree, privacy and content), the site
    settings the chrome is drawn from (branding), images and documents, sites, locales."""
    from django.apps import apps
    from django.db.models.signals import post_delete, post_save
    from wagtail import signals as wagtail_signals
    from wagtail.contrib.settings.models import BaseGenericSetting, BaseSiteSetting
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model
    from wagtail.models import Locale, Page, PageViewRestriction, Site

    uid = "kb_pages.page_cache"
    for signal in (
        wagtail_signals.page_published,
        wagtail_signals.page_unpublished,
        wagtail_signals.post_page_move,
    ):
        signal.connect(_changed, dispatch_uid=uid)
    models = [Page, PageViewRestriction, Site, Locale, get_image_model(), get_document_model()]
    models += [
        model
        for model in apps.get_models()
        if issubclass(model, (BaseSiteSetting, BaseGenericSetting))
    ]
    for model in models:
        post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}.{model._meta.label}")
    for model in models[1:]:  # a page's plain save (a draft) changes nothing live
        post_save.connect(_changed, sender=model, dispatch_uid=f"{uid}.{model._meta.label}")
