"""Custom domains in the tenant's Wagtail admin: add one, see the DNS record, remove one."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from branding.forms import DomainForm
from tenants.domains import dns_record_for, domain_add, domain_remove, domains_for_tenant

MANAGE_DOMAINS = "branding.manage_custom_domains"


class _CanManageDomains:
    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(MANAGE_DOMAINS):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class CustomDomainsView(_CanManageDomains, WagtailAdminTemplateMixin, TemplateView):
    template_name = "branding/admin/domains.html"
    page_title = gettext_lazy("Custom domains")
    header_icon = "site"

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.request.tenant
        domains = domains_for_tenant(tenant=tenant)
        context["platform_domains"] = [d for d in domains if d.is_primary]
        context["custom_domains"] = [
            (domain, dns_record_for(tenant=tenant, domain=domain.domain))
            for domain in domains
            if not domain.is_primary
        ]
        context.setdefault("form", DomainForm())
        return context

    def post(self, request, *args, **kwargs):
        form = DomainForm(request.POST)
        if form.is_valid():
            try:
                domain = domain_add(tenant=request.tenant, domain=form.cleaned_data["domain"])
            except ValidationError as error:
                form.add_error("domain", error)
            else:
                record = dns_record_for(tenant=request.tenant, domain=domain.domain)
                messages.success(
                    request,
                    _("%(domain)s was added. Create a %(type)s record pointing to %(value)s.")
                    % {"domain": domain.domain, "type": record.type, "value": record.value},
                )
                return redirect("branding_domains")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class CustomDomainRemoveView(_CanManageDomains, View):
    http_method_names = ["post"]

    def post(self, request, domain_id: int):
        try:
            domain_remove(tenant=request.tenant, domain_id=domain_id)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The domain was removed."))
        return redirect(reverse("branding_domains"))
