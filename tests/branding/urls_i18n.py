"""A tenant URLconf with language-prefixed URLs, as a multilingual portal may use."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    *i18n_patterns(path("hello/", TemplateView.as_view(template_name="base.html"))),
]
