"""Attachments from a separate user-content host, as Django's security notes advise.

A file someone uploaded is served from a host that shares no cookies with the portal
(``USER_CONTENT_HOST``, say ``files.helpdesk.example``): even a file a browser could be
talked into rendering runs nowhere near a session. Access is checked on the tenant's
host, as before; a reader who may see the file is redirected to a link on the
user-content host that names the tenant's schema and the attachment, signed and valid
for a few minutes. That host checks the signature and the age, nothing else: it has no
session and no tenant of its own. Without ``USER_CONTENT_HOST`` the tenant's host serves
the file itself (development, tests, small installs).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path

from helpdesk.models import Attachment
from tenants.context import tenant_schema
from tenants.urls_helpers import site_url

SALT = "helpdesk.usercontent"
LINK_SECONDS = 300


def enabled() -> bool:
    return bool(getattr(settings, "USER_CONTENT_HOST", ""))


def file_response(attachment: Attachment) -> FileResponse:
    """The file with the headers that keep a browser from running anything in it."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not attachment.content_type.startswith("image/"),
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Cache-Control"] = "private, max-age=300"
    return response


def signed_url(*, schema_name: str, attachment: Attachment) -> str:
    """A link on the user-content host to ``attachment`` of the tenant ``schema_name``."""
    value = signing.dumps({"s": schema_name, "a": attachment.token}, salt=SALT, compress=True)
    return site_url(settings.USER_CONTENT_HOST, f"/f/{value}/")


def serve(request: HttpRequest, value: str) -> FileResponse:
    """GET /f/<signed>/ on the user-content host."""
    try:
        data = signing.loads(value, salt=SALT, max_age=LINK_SECONDS)
        schema_name, token = data["s"], data["a"]
    except (signing.BadSignature, KeyError, TypeError):
        raise Http404 from None
    if not isinstance(schema_name, str) or not isinstance(token, str):
        raise Http404
    from tenants.models import Tenant

    if not Tenant.objects.filter(schema_name=schema_name, is_active=True).exists():
        raise Http404  # suspended or deleted since the link was made
    with tenant_schema(schema_name):
        attachment = Attachment.objects.filter(token=token).first()
        if attachment is None:
            raise Http404
        return file_response(attachment)


urlpatterns = [path("f/<str:value>/", serve, name="usercontent_file")]
