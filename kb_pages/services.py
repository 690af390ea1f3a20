"""Writes on the portal's Wagtail pages and Site. Called inside the tenant's schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from wagtail.models import Locale, Site
from wagtail.search import index

from kb_pages.models import PortalHomePage

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
