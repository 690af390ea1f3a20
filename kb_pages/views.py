"""Portal views of the knowledge base that are not pages of the tree."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from kb_pages import selectors
from kb_pages.models import KBIndexPage

MAX_QUERY_LENGTH = 200
RESULTS_SHOWN = 30


def search(request: HttpRequest, *, kb_index: KBIndexPage) -> HttpResponse:
    """The KB search page of one language's tree: /kb/search/?q=..."""
    query = request.GET.get("q", "").strip()
    error = ""
    results: list = []
    status = 200
    if len(query) > MAX_QUERY_LENGTH:
        error = _("Please use at most %(count)d characters.") % {"count": MAX_QUERY_LENGTH}
        status = 400
    elif query:
        results = selectors.articles_search(
            query=query, locale=kb_index.locale, user=request.user, limit=RESULTS_SHOWN
        )
    context = kb_index.get_context(request)
    context.update({"query": query, "results": results, "search_error": error})
    return TemplateResponse(request, "kb_pages/search.html", context, status=status)
