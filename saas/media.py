"""The current tenant's public media on its own host: Wagtail images and their renditions.

In development and in the single-process product nothing else serves ``/media/``, so the
brand's logo and favicon and every KB image would answer 404. Production may instead serve
media from a CDN or a separate user-content domain and turn this off (``SERVE_MEDIA``).

What is public here is decided by an allow-list of top-level folders of the tenant's media
root, not by a deny-list, because the same root also holds files that must never be
served without a permission check:

- ``attachments/``: ticket attachments, served only by ``helpdesk``'s access-checked
  attachment view;
- ``documents/``: Wagtail documents, served only by Wagtail's document view, which applies
  collection privacy.

A URL is ``MEDIA_URL`` + the tenant's own folder (``TenantFileSystemStorage.base_url``,
``/media/<schema>/``) + a path inside an allowed folder. Another tenant's folder answers
404, as does any path whose real location (symlinks resolved) is not inside an allowed
folder of the current tenant.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.core.files.storage import storages
from django.http import FileResponse, Http404, HttpRequest, HttpResponseNotModified
from django.urls import URLPattern, path
from django.utils.http import http_date
from django.views.decorators.http import require_safe
from django.views.static import was_modified_since
from django_tenants.files.storage import TenantFileSystemStorage

# Wagtail's image library (originals) and its renditions (every size shown in pages, the
# brand's logo and favicon). Wagtail images carry no privacy setting; documents do.
PUBLIC_MEDIA_FOLDERS = frozenset({"original_images", "images"})
# Raster formats only: an SVG can carry script, so it is downloaded, never shown inline.
INLINE_IMAGE_TYPES = frozenset(
    {
        "image/avif",
        "image/bmp",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/vnd.microsoft.icon",
        "image/webp",
        "image/x-icon",
    }
)
# A file's name is not its content hash (a replaced image may reuse a rendition's name), so
# caches keep it an hour and then revalidate with If-Modified-Since.
CACHE_CONTROL = "public, max-age=3600"


def media_urlpatterns() -> list[URLPattern]:
    """The route for a tenant URLconf; none when MEDIA_URL is not a path on our own host."""
    prefix = settings.MEDIA_URL or ""
    if not prefix.startswith("/") or prefix.startswith("//") or prefix == "/":
        return []
    return [path(f"{prefix.strip('/')}/<path:path>", tenant_media, name="tenant_media")]


def _public_file(storage: TenantFileSystemStorage, url_path: str) -> Path:
    """The file that ``MEDIA_URL + url_path`` names in the current tenant's public folders.

    Raises Http404 for another tenant's folder, a path with empty, ``.`` or ``..`` segments,
    backslashes or NUL, a folder outside the allow-list, or a real path (symlinks resolved)
    that leaves it.
    """
    tenant_prefix = storage.base_url  # "/media/<schema>/" for the schema of this request
    full = "/" + settings.MEDIA_URL.strip("/") + "/" + url_path
    if not full.startswith(tenant_prefix):
        raise Http404
    relative = full[len(tenant_prefix) :]
    parts = relative.split("/")
    if (
        len(parts) < 2
        or parts[0] not in PUBLIC_MEDIA_FOLDERS
        or any(part in ("", ".", "..") or "\\" in part or "\x00" in part for part in parts)
    ):
        raise Http404
    root = Path(storage.location).resolve()
    try:
        target = root.joinpath(*parts).resolve(strict=True)
        inside = target.relative_to(root)
    except (OSError, ValueError, RuntimeError) as error:  # missing, a loop, or outside
        raise Http404 from error
    # The real path's first folder decides, so a symlink from images/ into attachments/
    # (or anywhere else) is refused too.
    if inside.parts[0] not in PUBLIC_MEDIA_FOLDERS or not target.is_file():
        raise Http404
    return target


@require_safe
def tenant_media(request: HttpRequest, path: str) -> FileResponse | HttpResponseNotModified:
    if not settings.SERVE_MEDIA:
        raise Http404
    storage = storages["default"]
    if not isinstance(storage, TenantFileSystemStorage):
        raise Http404  # without per-schema folders, the URL alone could not keep tenants apart
    target = _public_file(storage, path)
    mtime = target.stat().st_mtime
    if not was_modified_since(request.META.get("HTTP_IF_MODIFIED_SINCE"), mtime):
        response = HttpResponseNotModified()
    else:
        content_type, encoding = mimetypes.guess_type(target.name)
        inline = encoding is None and content_type in INLINE_IMAGE_TYPES
        response = FileResponse(
            target.open("rb"),  # FileResponse sets Content-Length from the open file
            as_attachment=not inline,
            filename=target.name,
            content_type=content_type if inline else "application/octet-stream",
        )
    response["Last-Modified"] = http_date(mtime)
    response["Cache-Control"] = CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    # Opened on its own, a file from here can run nothing on the tenant's origin.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
