"""Wagtail's redirects, on tenant hosts only.

The redirects live in each tenant's schema; the public site (signup, platform admin)
has no Wagtail tables, and Wagtail's middleware looking one up there turned every 404 on
the public host into a 500.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from wagtail.contrib.redirects.middleware import RedirectMiddleware


class TenantRedirectMiddleware(RedirectMiddleware):
    def process_response(self, request, response):
        if connection.schema_name == settings.PUBLIC_SCHEMA_NAME:
            return response
        return super().process_response(request, response)
