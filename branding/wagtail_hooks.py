from __future__ import annotations

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from branding.views import MANAGE_DOMAINS, CustomDomainRemoveView, CustomDomainsView


@hooks.register("register_admin_urls")
def register_domain_urls():
    return [
        path("domains/", CustomDomainsView.as_view(), name="branding_domains"),
        path(
            "domains/<int:domain_id>/remove/",
            CustomDomainRemoveView.as_view(),
            name="branding_domain_remove",
        ),
    ]


@hooks.register("register_permissions")
def register_domain_permission():
    # So the group editor offers it: Wagtail lists only the settings' own "change".
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(
        content_type__app_label="branding", codename="manage_custom_domains"
    )


class _DomainsMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(MANAGE_DOMAINS)


@hooks.register("register_settings_menu_item")
def register_domains_menu_item():
    return _DomainsMenuItem(
        _("Custom domains"), reverse("branding_domains"), icon_name="site", order=610
    )
