"""Knowledge-base endpoints of the tenant host that are not pages of the tree, mounted at
/kb/ ahead of Wagtail's routing (so a category slugged "suggest" or "deflect" would be
shadowed, as "search" already is by the KB index's own route)."""

from django.urls import path

from kb_pages import views

urlpatterns = [
    path("suggest/", views.suggest, name="kb_suggest"),
    path("deflect/", views.deflect, name="kb_deflect"),
]
