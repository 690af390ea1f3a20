from django.contrib.auth import login
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.handoff import handoff_user


@never_cache
def handoff(request: HttpRequest) -> HttpResponse:
    """Finish the public-site signup: sign the owner in on this tenant's host."""
    user = handoff_user(token=request.GET.get("token", ""), schema_name=connection.schema_name)
    if user is None:
        return render(
            request,
            "accounts/handoff_invalid.html",
            {
                "message": _(
                    "This sign-in link has expired or has already been used. Please sign in."
                )
            },
            status=400,
        )
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponseRedirect("/admin/" if user.is_superuser else "/")
