from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts.handoff import handoff_token
from accounts.models import User
from tenants.context import tenant_schema
from tenants.forms import SignupForm
from tenants.provisioning import OwnerDetails, tenant_provision
from tenants.urls_helpers import site_url


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/landing.html", {"form": SignupForm()})


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tenant = tenant_provision(
                name=data["organisation"],
                slug=data["subdomain"],
                owner=OwnerDetails(
                    name=data["owner_name"], email=data["email"], password=data["password"]
                ),
            )
        except ValidationError as error:  # lost a race for the subdomain
            form.add_error("subdomain", error)
        else:
            with tenant_schema(tenant.schema_name):
                owner = User.objects.get(email=data["email"])
                token = handoff_token(user=owner, schema_name=tenant.schema_name)
            domain = tenant.get_primary_domain().domain
            return HttpResponseRedirect(site_url(domain, f"/accounts/handoff/?token={token}"))
    status = 400 if request.method == "POST" else 200
    return render(request, "tenants/signup.html", {"form": form}, status=status)
