"""Portal views of the knowledge base that are not pages of the tree."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kb_pages import selectors, services
from kb_pages.forms import ArticleFeedbackForm
from kb_pages.models import ArticlePage, KBIndexPage

MAX_QUERY_LENGTH = 200
RESULTS_SHOWN = 30
THANKS = gettext_lazy("Thank you for your feedback.")


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


def article_feedback(request: HttpRequest, *, article: ArticlePage) -> HttpResponse:
    """POST /<article>/feedback/: "Was this helpful?" with an optional comment."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    wants_json = "application/json" in request.headers.get("Accept", "")
    form = ArticleFeedbackForm(request.POST)
    if form.is_valid():
        if not request.user.is_authenticated and not request.session.session_key:
            request.session.save()  # an anonymous reader's vote is keyed on their session
        try:
            services.article_vote(
                article=article,
                helpful=form.cleaned_data["helpful"],
                comment=form.cleaned_data["comment"],
                user=request.user,
                session_key=request.session.session_key or "",
            )
        except ValidationError as error:
            form.add_error(None, error)
    if form.errors:
        if wants_json:
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        context = article.get_context(request)
        context["feedback_form"] = form
        return TemplateResponse(request, article.get_template(request), context, status=400)
    if wants_json:
        return JsonResponse({"ok": True, "message": str(THANKS)})
    messages.success(request, THANKS)
    return redirect(article.url + "#feedback")
