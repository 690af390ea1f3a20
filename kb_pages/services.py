"""Writes on the portal's Wagtail pages and Site. Called inside the tenant's schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from wagtail.models import Site
from wagtail.search import index

from kb_pages.models import PortalHomePage

if TYPE_CHECKING:
    from tenants.models import Tenant
    from tenants.provisioning import OwnerDetails


@transaction.atomic
def site_bind_to_tenant(*, tenant: Tenant, owner: OwnerDetails | None = None) -> Site:
    """Setup step of a new tenant: its Site answers on its primary domain, its home page
    carries its name. (The cloned template holds one Site and one PortalHomePage.)"""
    home = PortalHomePage.objects.get()
    if home.title != tenant.name:
        # A title change touches no references, so skip Page.save()'s reference-index
        # and revision work (two thirds of signup time) and re-index search directly.
        PortalHomePage.objects.filter(pk=home.pk).update(title=tenant.name, draft_title=tenant.name)
        home.title = home.draft_title = tenant.name
        index.insert_or_update_object(home)
    site = Site.objects.get(is_default_site=True)
    site.hostname = tenant.get_primary_domain().domain
    site.port = 80
    site.site_name = tenant.name
    site.root_page = home
    site.save()
    return site
