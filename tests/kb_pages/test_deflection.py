"""The deflection loop on the knowledge-base side: suggestions while a subject is typed,
"This answered my question" counted once per form, the deflection rate report, and
drafts made from resolved tickets with personal data removed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from wagtail.models import Locale

from helpdesk.models import Channel, Department
from helpdesk.services.tickets import ticket_create
from kb_pages import deflection as deflection_tokens
from kb_pages.models import ArticlePage, Deflection, KBCategoryPage, KBIndexPage
from kb_pages.scrub import scrub_personal_data
from kb_pages.selectors import articles_search, deflection_rate_by_month
from kb_pages.services import DRAFTS_CATEGORY_SLUG, article_draft_from_ticket
from kb_pages.text import script_language
from tenants.context import tenant_schema
from tests.kb_pages.conftest import add_page, body, home_in, signed_in

SUGGEST = "/kb/suggest/"
DEFLECT = "/kb/deflect/"
PERSIAN_TITLE = "چگونه کارت بانکی را فعال کنم"
FA = {"HTTP_COOKIE": "django_language=fa"}


# --- suggestions -------------------------------------------------------------------------


def _titles(response) -> list[str]:
    return [item["title"] for item in response.json()["results"]]


@pytest.fixture
def persian_article(kb):
    category = kb["category"].copy_for_translation(
        Locale.objects.get(language_code="fa"), copy_parents=True
    )
    category.save_revision().publish()
    return add_page(
        category,
        ArticlePage(
            title=PERSIAN_TITLE,
            slug="card",
            summary="کارت را در برنامه‌ی موبایل فعال می‌کنید.",
            body=body(("text", "<p>رمز را وارد کنید.</p>")),
        ),
    )


def test_suggestions_are_json_with_full_urls(kb, alpha):
    response = alpha.client().get(SUGGEST, {"q": "forgot password"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    data = response.json()
    assert data["language"] == "en"
    assert data["results"] == [
        {
            "id": kb["article"].pk,
            "title": "Reset your password",
            "summary": "Get back into your account.",
            "url": "http://alpha.localhost/kb/accounts/reset-password/",
            "language": "en",
            "dir": "ltr",
            "internal": False,
        }
    ]


def test_at_most_five_suggestions(kb, alpha):
    for number in range(7):
        add_page(
            kb["category"],
            ArticlePage(title=f"Printer jam number {number}", slug=f"printer-{number}"),
        )

    response = alpha.client().get(SUGGEST, {"q": "printer jam"})

    assert len(_titles(response)) == 5
    assert all(title.startswith("Printer jam") for title in _titles(response))


def test_suggestions_speak_the_visitors_language(persian_article, alpha):
    response = alpha.client().get(SUGGEST, {"q": "كارت بانكي"}, **FA)  # Arabic keyboard

    assert response.json()["language"] == "fa"
    [item] = response.json()["results"]
    assert item["title"] == PERSIAN_TITLE
    assert (item["language"], item["dir"]) == ("fa", "rtl")
    # An English visitor typing the same words is not offered the Persian article.
    assert _titles(alpha.client().get(SUGGEST, {"q": "كارت بانكي"})) == []


def test_suggestions_fall_back_to_the_default_language(persian_article, alpha):
    # Nothing in Persian matches "password"; the English article does.
    response = alpha.client().get(SUGGEST, {"q": "password"}, **FA)

    [item] = response.json()["results"]
    assert item["title"] == "Reset your password"
    assert (item["language"], item["dir"]) == ("en", "ltr")


def test_an_asked_language_overrides_the_visitors(persian_article, alpha):
    agent = signed_in(alpha, "agent")

    persian = agent.get(SUGGEST, {"q": "کارت", "lang": "fa"})
    everywhere = agent.get(SUGGEST, {"q": "کارت", "lang": "all"})

    assert _titles(persian) == [PERSIAN_TITLE]
    assert everywhere.json()["language"] is None
    assert [(i["title"], i["language"]) for i in everywhere.json()["results"]] == [
        (PERSIAN_TITLE, "fa")
    ]


def test_internal_articles_are_suggested_to_agents_only_and_marked(kb, alpha):
    query = {"q": "identity console"}

    assert _titles(alpha.client().get(SUGGEST, query)) == []
    assert _titles(signed_in(alpha, "customer").get(SUGGEST, query)) == []
    [item] = signed_in(alpha, "agent").get(SUGGEST, query).json()["results"]
    assert item["title"] == "Unlock a locked account" and item["internal"] is True


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Type a few words"),
        ({"q": "   "}, "Type a few words"),
        ({"q": "x" * 201}, "at most 200 characters"),
        ({"q": "password\x00"}, "not allowed"),
        ({"q": "password", "lang": "de"}, "Unknown language"),
        ({"q": "password", "lang": "<script>"}, "Unknown language"),
    ],
)
def test_bad_suggestion_queries_get_a_clear_400(kb, alpha, params, message):
    response = alpha.client().get(SUGGEST, params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert message in response.json()["error"]


def test_suggestions_answer_get_only(alpha):
    assert alpha.client().post(SUGGEST, {"q": "password"}).status_code == 405


def test_punctuation_only_query_finds_nothing_without_error(kb, alpha):
    response = alpha.client().get(SUGGEST, {"q": "?!…"})

    assert response.status_code == 200 and response.json()["results"] == []


def test_alpha_articles_are_never_suggested_on_bravo(kb, alpha, bravo):
    assert _titles(alpha.client().get(SUGGEST, {"q": "password"}))

    assert _titles(bravo.client().get(SUGGEST, {"q": "password"})) == []
    assert _titles(signed_in(bravo, "agent").get(SUGGEST, {"q": "identity console"})) == []


# --- "This answered my question" ---------------------------------------------------------


def _form_token(client: Client) -> str:
    html = client.get("/tickets/new/").content.decode()
    return re.search(r'data-deflect-token="([^"]+)"', html).group(1)


def test_new_ticket_form_carries_the_suggestion_script_and_a_token(alpha):
    html = alpha.client().get("/tickets/new/").content.decode()

    assert 'data-suggest-url="/kb/suggest/"' in html
    assert 'data-deflect-url="/kb/deflect/"' in html
    assert "js/deflect.js" in html
    assert 'aria-live="polite"' in html
    assert "This answered my question" in html


def test_each_rendering_of_the_form_is_a_new_session(alpha):
    client = alpha.client()

    assert _form_token(client) != _form_token(client)


def test_answered_counts_once_per_form_session(kb, alpha):
    client = alpha.client()
    token = _form_token(client)
    article = kb["article"]

    first = client.post(DEFLECT, {"token": token, "article": article.pk})
    again = client.post(DEFLECT, {"token": token, "article": article.pk})

    assert first.status_code == 200
    assert first.json()["ok"] is True and first.json()["counted"] is True
    assert first.json()["url"] == "http://alpha.localhost/kb/accounts/reset-password/"
    assert again.status_code == 200 and again.json()["counted"] is False
    [deflection] = Deflection.objects.all()
    assert deflection.article == article and deflection.language == "en"
    assert deflection.user is None and deflection.session_key

    # A new form is a new session.
    client.post(DEFLECT, {"token": _form_token(client), "article": article.pk})
    assert Deflection.objects.count() == 2


def test_signed_in_customers_are_recorded_as_themselves(kb, alpha, people):
    client = signed_in(alpha, "customer")
    client.cookies["django_language"] = "fa"

    client.post(DEFLECT, {"token": _form_token(client), "article": kb["article"].pk})

    deflection = Deflection.objects.get()
    assert deflection.user == people["customer"] and deflection.session_key == ""
    assert deflection.language == "fa"


def test_answered_needs_the_csrf_token(kb, alpha):
    client = alpha.client(enforce_csrf_checks=True)
    token = _form_token(client)

    refused = client.post(DEFLECT, {"token": token, "article": kb["article"].pk})
    accepted = client.post(
        DEFLECT,
        {"token": token, "article": kb["article"].pk},
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )

    assert refused.status_code == 403
    assert accepted.status_code == 200
    assert Deflection.objects.count() == 1


@pytest.mark.parametrize(
    ("token", "article", "message"),
    [
        ("", "article", "expired"),
        ("forged:token", "article", "expired"),
        ("tampered", "article", "expired"),
        ("x" * 400, "article", "expired"),
        ("valid", "", "Choose the article"),
        ("valid", "abc", "Choose the article"),
        ("valid", "9" * 30, "Choose the article"),
        ("valid", "999999999", "not available"),
        ("valid", "internal", "not available"),  # a customer cannot name an internal one
    ],
)
def test_bad_answers_are_refused_with_a_clear_400(kb, alpha, token, article, message):
    client = alpha.client()
    real = _form_token(client)
    token = {"valid": real, "tampered": real[:-2] + "xx"}.get(token, token)
    article = {"article": kb["article"].pk, "internal": kb["internal"].pk}.get(article, article)

    response = client.post(DEFLECT, {"token": token, "article": article})

    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Deflection.objects.exists()


def test_an_expired_form_is_refused(kb, alpha, monkeypatch):
    client = alpha.client()
    token = _form_token(client)
    monkeypatch.setattr(deflection_tokens, "TOKEN_MAX_AGE", dt.timedelta(seconds=-1))

    response = client.post(DEFLECT, {"token": token, "article": kb["article"].pk})

    assert response.status_code == 400 and not Deflection.objects.exists()


def test_answered_answers_post_only(alpha):
    assert alpha.client().get(DEFLECT).status_code == 405


def test_a_token_from_alpha_is_worthless_on_bravo(kb, alpha, bravo):
    token = _form_token(alpha.client())
    with tenant_schema(bravo.schema_name):
        bravo_article = _bravo_article()

    response = bravo.client().post(DEFLECT, {"token": token, "article": bravo_article.pk})

    assert response.status_code == 400
    with tenant_schema(bravo.schema_name):
        assert not Deflection.objects.exists()


def _bravo_article() -> ArticlePage:
    index = KBIndexPage.objects.child_of(home_in("en")).get()
    category = add_page(index, KBCategoryPage(title="Bravo help", slug="bravo-help"))
    return add_page(category, ArticlePage(title="Bravo printer guide", slug="printer"))


# --- the deflection rate -----------------------------------------------------------------


def _portal_ticket(channel: str = Channel.PORTAL, **changes):
    fields = {
        "subject": "Printer on fire",
        "body_text": "It is on fire.",
        "department": Department.objects.get(slug="general"),
        "channel": channel,
        "requester_email": "someone@example.com",
        "requester_name": "Some One",
    }
    return ticket_create(**{**fields, **changes})


def _deflect(client, article) -> None:
    response = client.post(DEFLECT, {"token": _form_token(client), "article": article.pk})
    assert response.status_code == 200


def test_rate_counts_portal_tickets_only(kb, alpha):
    client = alpha.client()
    for _ in range(3):
        _deflect(client, kb["article"])
    _portal_ticket()
    _portal_ticket(channel=Channel.EMAIL)
    _portal_ticket(channel=Channel.API)

    report = signed_in(alpha, "owner").get("/admin/reports/kb-deflection/")

    assert report.status_code == 200
    this_month = deflection_rate_by_month()[0]
    assert this_month.month == timezone.localdate().replace(day=1)
    assert (this_month.deflections, this_month.portal_tickets) == (3, 1)
    assert this_month.rate == pytest.approx(0.75)
    html = report.content.decode()
    assert "75%" in html and "Ticket deflection" in html


def test_rate_is_per_month(kb, alpha):
    _deflect(alpha.client(), kb["article"])
    last_month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    noon = timezone.make_aware(dt.datetime.combine(last_month, dt.time(12)))
    Deflection.objects.update(created_at=noon)
    ticket = _portal_ticket()
    type(ticket).objects.filter(pk=ticket.pk).update(created_at=noon)
    _portal_ticket()  # this month

    signed_in(alpha, "owner").get("/admin/reports/kb-deflection/")  # loads the helpdesk
    months = deflection_rate_by_month(months=3)

    assert [m.month for m in months][:2] == [
        timezone.localdate().replace(day=1),
        last_month.replace(day=1),
    ]
    assert (months[0].deflections, months[0].portal_tickets, months[0].rate) == (0, 1, 0.0)
    assert (months[1].deflections, months[1].portal_tickets, months[1].rate) == (1, 1, 0.5)
    assert months[2].rate is None  # nothing happened: no rate, not 0%


def test_deflection_report_is_in_the_reports_menu_and_closed_to_agents(alpha):
    owner_home = signed_in(alpha, "owner").get("/admin/").content.decode()
    agent = signed_in(alpha, "agent").get("/admin/reports/kb-deflection/")

    assert "/admin/reports/kb-deflection/" in owner_home
    assert agent.status_code in (302, 403)


def test_deflection_report_exports_csv(kb, alpha):
    _deflect(alpha.client(), kb["article"])

    response = signed_in(alpha, "owner").get("/admin/reports/kb-deflection/", {"export": "csv"})

    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode()
    assert "Answered by an article" in content.splitlines()[0]


def test_alpha_deflections_are_never_counted_on_bravo(kb, alpha, bravo):
    _deflect(alpha.client(), kb["article"])
    _portal_ticket()

    bravo_report = signed_in(bravo, "owner").get("/admin/reports/kb-deflection/")

    assert bravo_report.status_code == 200
    with tenant_schema(bravo.schema_name):
        assert not Deflection.objects.exists()
        this_month = deflection_rate_by_month()[0]
        assert (this_month.deflections, this_month.portal_tickets) == (0, 0)
    with tenant_schema(alpha.schema_name):
        assert deflection_rate_by_month()[0].deflections == 1


# --- personal data out of ticket text ----------------------------------------------------

NAMES = ["Sara Ahmadi", "سارا احمدی"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Write to sara.ahmadi+shop@example.co.uk.", "Write to [email]."),
        ("SARA@Mail.COM or info@شرکت.ir", "[email] or [email]"),
        ("Call +98 912 345 6789 today", "Call [phone] today"),
        ("Call 0098-912-345-6789", "Call [phone]"),
        ("Mobile 0912-345-6789 or 09123456789", "Mobile [phone] or [phone]"),
        ("Office (021) 8888 7777", "Office [phone]"),
        ("US 555-123-4567", "US [phone]"),
        ("شماره من ۰۹۱۲۳۴۵۶۷۸۹ است", "شماره من [phone] است"),
        ("موبایل ۰۹۱۲ ۳۴۵ ۶۷۸۹", "موبایل [phone]"),
        ("رقمي ٠٥٠١٢٣٤٥٦٧ شكرا", "رقمي [phone] شكرا"),
        ("هاتف +٩٦٦ ٥٠ ١٢٣ ٤٥٦٧", "هاتف [phone]"),
        ("Card 4111 1111 1111 1111.", "Card [number]."),
        ("Card 4111-1111-1111-1111", "Card [number]"),
        ("کارت ۶۰۳۷۹۹۷۵۹۹۱۲۳۴۵۶", "کارت [number]"),
        ("Order 98765432 shipped", "Order [number] shipped"),
        ("Order ORD123456 and INV-2024-778899", "Order ORD[number] and INV-[number]"),
        ("سفارش ۱۲۳۴۵۶۷۸۹۰۱۲ ثبت شد", "سفارش [number] ثبت شد"),
        ("طلب رقم ٩٨٧٦٥٤٣٢١", "طلب رقم [number]"),
        ("Ticket K7M-4QX9, also k7m4qx9", "Ticket [code], also [code]"),
        ("Your other ticket AB12-CD34", "Your other ticket [code]"),
        ("Hi Sara, Sara Ahmadi wrote", "Hi [name], [name] wrote"),
        ("sara AHMADI", "[name]"),
        ("سلام سارا احمدی", "سلام [name]"),
        ("سلام احمدي", "سلام [name]"),  # Arabic yeh for the Persian one
        (
            "https://alpha.localhost/t/eyJ0Ijo1fQ:1r2s3T:AbCdEf123456GhIjKl/",
            "https://alpha.localhost/t/[code]/",
        ),
    ],
)
def test_personal_data_is_replaced(text, expected):
    assert scrub_personal_data(text, names=NAMES, codes=["K7M-4QX9"]) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Restart the router, wait 30 seconds, then press 1234 on the keypad.",
        "Released on 2024-01-15 at 10:30, version 1.2.3.",
        "The server 192.168.1.1 answers on port 8080.",
        "It costs 1,250,000 rials (3 items).",
        "Wi-Fi and COVID-19 and MP3 files.",
        "Sarah and Saran are other people.",
        "See https://alpha.localhost/kb/reset-password-2fa-setup-guide-2024/",
        "تاریخ ۱۴۰۳/۰۵/۱۲ و ساعت ۱۰:۳۰",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert scrub_personal_data(text, names=NAMES) == text


def test_scrubbing_without_names_or_codes_still_removes_contact_details():
    assert scrub_personal_data("Sara: sara@example.com, 0912 345 6789") == (
        "Sara: [email], [phone]"
    )
    assert scrub_personal_data("") == ""


def test_script_language_guess():
    assert script_language("چطور کارت را فعال کنم") == "fa"
    assert script_language("كيف أفعل البطاقة") == "ar"
    assert script_language("How do I activate my card") is None


# --- drafts from resolved tickets --------------------------------------------------------


def _draft(people, **changes) -> ArticlePage:
    fields = {
        "subject": "Card for Sara Ahmadi not working",
        "question": "Hello, I am Sara Ahmadi (sara@example.com, 0912 345 6789).\n"
        "My card 4111 1111 1111 1111 is refused. Ticket K7M-4QX9.",
        "answer": "Hi Sara,\n\nOpen Settings > Cards and press Activate.\nRegards, Alpha Agent",
        "language": "en",
        "names": ["Sara Ahmadi", "Alpha Agent"],
        "codes": ["K7M-4QX9"],
        "author": people["agent"],
    }
    return article_draft_from_ticket(**{**fields, **changes})


def test_a_draft_is_an_unpublished_revision_with_personal_data_removed(people):
    article = _draft(people)

    article.refresh_from_db()
    assert not article.live and article.has_unpublished_changes
    assert article.latest_revision is not None
    assert article.owner == people["agent"]
    assert article.title == "Card for [name] not working"
    # Block values only: a block's random id may contain any digits.
    text = str([block["value"] for block in article.body.raw_data])
    for personal in ("Sara", "Ahmadi", "sara@example.com", "0912", "4111", "K7M", "Agent"):
        assert personal not in text and personal not in article.summary
    assert "[email]" in text and "[phone]" in text and "[number]" in text
    assert "[code]" in text and "[name]" in text
    assert "<h2>Question</h2>" in text and "<h2>Answer</h2>" in text
    assert "Open Settings &gt; Cards and press Activate." in text
    assert article.summary.startswith("Hello, I am [name] ([email], [phone]).")


def test_drafts_wait_in_an_unpublished_category_of_the_languages_kb(people):
    first = _draft(people)
    second = _draft(people)

    category = first.get_parent().specific
    assert category.slug == DRAFTS_CATEGORY_SLUG and not category.live
    assert second.get_parent().pk == category.pk
    assert category.get_parent().pk == KBIndexPage.objects.child_of(home_in("en")).get().pk
    assert first.slug != second.slug


def test_drafts_are_not_public_or_searchable(people, alpha):
    article = _draft(people, subject="Activate card quickly")

    assert articles_search(query="activate card", locale="en", user=people["agent"]) == []
    assert articles_search(query="activate card", locale="en", user=AnonymousUser()) == []
    assert article.url == "/kb/drafts-from-tickets/activate-card-quickly/"
    assert alpha.client().get(article.url).status_code == 404
    assert signed_in(alpha, "agent").get(article.url).status_code == 404
    assert (
        "Activate card quickly"
        not in alpha.client().get("/kb/search/", {"q": "activate card"}).content.decode()
    )


def test_a_persian_ticket_becomes_a_draft_in_the_persian_kb(people):
    article = _draft(
        people,
        subject="کارت سارا احمدی کار نمی‌کند",
        question="شماره من ۰۹۱۲۳۴۵۶۷۸۹ است و کارت ۶۰۳۷۹۹۷۵۹۹۱۲۳۴۵۶",
        answer="سلام سارا، از تنظیمات کارت را فعال کنید.",
        language="",  # unknown: the text tells
        names=["سارا احمدی"],
    )

    assert article.locale.language_code == "fa"
    assert article.title == "کارت [name] کار نمی‌کند"
    # Block values only: a block's random id may contain any digits.
    text = str([block["value"] for block in article.body.raw_data])
    assert "۰۹۱۲" not in text and "۶۰۳۷" not in text and "سارا" not in text
    assert "[phone]" in text and "[number]" in text
    index = article.get_parent().get_parent().specific
    assert isinstance(index, KBIndexPage) and index.locale.language_code == "fa"


def test_an_unknown_language_falls_back_to_the_default_kb(people):
    article = _draft(people, language="xx")

    assert article.locale.language_code == "en"


def test_a_draft_needs_an_answer(people):
    with pytest.raises(ValidationError):
        _draft(people, answer="   ")
    assert not ArticlePage.objects.filter(live=False).exists()


@pytest.mark.parametrize("typed", ["reset your passw", "Reset yo", "pass"])
def test_suggestions_follow_a_word_still_being_typed(kb, alpha, typed):
    response = alpha.client().get(SUGGEST, {"q": typed})

    assert _titles(response) == ["Reset your password"]


def test_a_half_typed_persian_word_on_an_arabic_keyboard_is_suggested(persian_article, alpha):
    response = alpha.client().get(SUGGEST, {"q": "كارت بان"}, **FA)  # ك and half of «بانکی»

    assert _titles(response) == [PERSIAN_TITLE]


def test_the_search_page_still_wants_whole_words(kb, in_alpha, people):
    from kb_pages.selectors import articles_search

    assert articles_search(query="passw", locale="en", user=people["customer"]) == []
    assert articles_search(query="passw", locale="en", user=people["customer"], typing=True)
