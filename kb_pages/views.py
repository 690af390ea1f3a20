"""Portal views of the knowledge base that are not pages of the tree."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kb_pages import selectors, services
from kb_pages.deflection import form_key_from_token
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


ALL_LANGUAGES = "all"


def _json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _language_asked(request: HttpRequest) -> tuple[str | None, str]:
    """(language code or None for every language, error). Without ``lang``: the visitor's
    language, the one the portal speaks to them in."""
    asked = request.GET.get("lang", "")
    if asked == ALL_LANGUAGES:
        return None, ""
    if asked:
        if asked not in dict(settings.LANGUAGES):
            return None, _("Unknown language.")
        return asked, ""
    try:
        return translation.get_supported_language_variant(translation.get_language()), ""
    except LookupError:
        return settings.LANGUAGE_CODE, ""


@require_GET
def suggest(request: HttpRequest) -> JsonResponse:
    """GET /kb/suggest/?q=...[&lang=fa|all]: the top articles for what is being typed, as
    JSON. Customers get public articles; agents also internal ones, marked as such."""
    query = request.GET.get("q", "")
    if "\x00" in query:
        return _json_error(_("The search contains a character that is not allowed."))
    query = " ".join(query.split())
    if not query:
        return _json_error(_("Type a few words to search for."))
    if len(query) > MAX_QUERY_LENGTH:
        return _json_error(
            _("Please use at most %(count)d characters.") % {"count": MAX_QUERY_LENGTH}
        )
    language, error = _language_asked(request)
    if error:
        return _json_error(error)
    results = []
    for suggestion in selectors.articles_suggest(query=query, language=language, user=request.user):
        article = suggestion.article
        url = article.get_url(request=request)
        if not url:
            continue  # not under any site: nowhere to send anyone
        results.append(
            {
                "id": article.pk,
                "title": article.title,
                "summary": article.summary,
                "url": request.build_absolute_uri(url),
                "language": suggestion.language,
                "dir": "rtl"
                if translation.get_language_info(suggestion.language)["bidi"]
                else "ltr",
                "internal": article.internal_only,
            }
        )
    response = JsonResponse({"query": query, "language": language, "results": results})
    response["Cache-Control"] = "private, no-store"  # differs between customers and agents
    return response


@require_POST
def deflect(request: HttpRequest) -> JsonResponse:
    """POST /kb/deflect/ (CSRF-protected, with the form's signed token): "This answered
    my question". Ends the new-ticket form and counts it, once, as a deflected ticket."""
    form_key = form_key_from_token(request.POST.get("token", ""))
    if form_key is None:
        return _json_error(_("This form has expired. Please reload the page and try again."))
    article_id = request.POST.get("article", "")
    if not article_id.isdigit() or len(article_id) > 18:
        return _json_error(_("Choose the article that answered your question."))
    article = selectors.articles_visible_to(user=request.user).filter(pk=int(article_id)).first()
    if article is None:
        return _json_error(_("That article is not available."))
    if not request.user.is_authenticated and not request.session.session_key:
        request.session.save()
    _deflection, counted = services.deflection_record(
        form_key=form_key,
        article=article,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        user=request.user,
        session_key=request.session.session_key or "",
    )
    url = article.get_url(request=request)
    return JsonResponse(
        {
            "ok": True,
            "counted": counted,
            "message": _(
                "Glad it helped! Your request was not sent, so there is nothing more to do."
            ),
            "url": request.build_absolute_uri(url) if url else "",
            "title": article.title,
        }
    )
