"""The desk queue's organisation filter: a select for a few organisations, a name with
suggestions past ORGANISATION_SELECT_MAX; the suggestions endpoint, Persian/Arabic folded;
the name typed without JavaScript; one tenant's organisations never reaching another's."""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk import selectors
from helpdesk.models import CustomerProfile, Organisation
from helpdesk.text import name_key
from helpdesk.views.desk import ORGANISATION_QUERY_MAX, ORGANISATION_SELECT_MAX
from tenants.context import tenant_schema

ZWNJ = "\u200c"


def _client(tenant, role):
    client = tenant.client()
    client.cookies["sessionid"] = tenant.sessions[role]
    return client


def _references(response) -> set[str]:
    return set(re.findall(r'data-reference="([0-9A-Z-]+)"', response.content.decode()))


def _fillers(count: int, prefix: str = "Filler") -> None:
    Organisation.objects.bulk_create(Organisation(name=f"{prefix} {i:03}") for i in range(count))


def _member(user, organisation: Organisation) -> None:
    CustomerProfile.objects.update_or_create(user=user, defaults={"organisation": organisation})


def _suggestions(client, q: str) -> list[str]:
    response = client.get("/desk/organisations/", {"q": q})
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["results"]]


def _text_box(page: str) -> tuple[str, str]:
    """(the organisation_name box's value, the hidden organisation id) of a queue page."""
    box = re.search(r'<input type="text" name="organisation_name" value="([^"]*)"', page)
    hidden = re.search(r'<input type="hidden" name="organisation" value="([^"]*)"', page)
    assert box and hidden, "no organisation text box on the page"
    return html.unescape(box.group(1)), hidden.group(1)


@pytest.fixture
def acme(in_alpha, people):
    acme = Organisation.objects.create(name="Acme & Sons")
    _member(people["customer"], acme)
    return acme


@pytest.fixture
def many(in_alpha):
    """One organisation past the select's threshold."""
    _fillers(ORGANISATION_SELECT_MAX + 1)


# The page: a select, or a text box.


def test_up_to_the_threshold_the_filter_is_a_select(alpha, in_alpha, acme):
    _fillers(ORGANISATION_SELECT_MAX - 1)  # with Acme: exactly the threshold

    page = _client(alpha, "agent").get("/desk/").content.decode()

    assert '<select name="organisation" aria-label="Organisation">' in page
    assert f'<option value="{acme.pk}">Acme &amp; Sons</option>' in page
    assert 'name="organisation_name"' not in page
    assert "organisation_filter.js" not in page


def test_past_the_threshold_the_filter_is_a_name_with_suggestions(
    alpha, many, acme, new_ticket, people
):
    theirs = new_ticket(subject="From Acme")
    new_ticket(subject="From someone else", requester=people["other_customer"])
    client = _client(alpha, "agent")

    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/desk/?queue=open&organisation={acme.pk}")
    html_page = page.content.decode()

    assert _references(page) == {theirs.reference}
    assert '<select name="organisation"' not in html_page
    assert "Filler" not in html_page  # no list of every organisation
    assert _text_box(html_page) == ("Acme & Sons", str(acme.pk))
    assert re.search(r'<input type="text" name="organisation_name"[^>]* dir="auto"', html_page)
    assert "js/organisation_filter.js" in html_page
    assert 'data-url="/desk/organisations/"' in html_page
    # Every read of organisations is bounded: the threshold's probe and the one chosen.
    reads = [
        q["sql"] for q in queries.captured_queries if 'FROM "helpdesk_organisation"' in q["sql"]
    ]
    assert len(reads) == 2 and all("LIMIT" in sql for sql in reads)


def test_past_the_threshold_an_unknown_id_is_an_organisation_not_on_this_list(
    alpha, many, acme, new_ticket
):
    new_ticket(subject="From Acme")
    missing = Organisation.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000

    page = _client(alpha, "agent").get(f"/desk/?queue=open&organisation={missing}")

    assert _references(page) == set()
    assert "An organisation not on this list" in page.content.decode()
    assert _text_box(page.content.decode()) == ("", str(missing))


# The suggestions endpoint.


def test_suggestions_contain_the_text_whatever_the_case_by_name_at_most_twenty(
    alpha, in_alpha, acme
):
    Organisation.objects.bulk_create(Organisation(name=f"ACME Branch {i:02}") for i in range(25))
    Organisation.objects.create(name="Globex")
    client = _client(alpha, "agent")

    names = _suggestions(client, "acm")
    sons = _suggestions(client, "  & SONS ")

    assert len(names) == 20
    assert names == sorted(names) and names[0] == "ACME Branch 00"
    assert all("acme" in name.lower() for name in names)
    assert sons == ["Acme & Sons"]
    assert _suggestions(client, "initech") == []


def test_suggestions_answer_ids_and_names(alpha, in_alpha, acme):
    response = _client(alpha, "agent").get("/desk/organisations/", {"q": "acme"})

    assert response.json() == {"results": [{"id": acme.pk, "name": "Acme & Sons"}]}
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("شرکت کیان\u200cپارس", "كيانپارس"),  # Arabic yeh and kaf, ZWNJ left out
        ("شرکت کیانپارس", "کیان\u200cپارس"),  # ZWNJ typed, not stored
        ("مهندسی نیکان", "مهندسی\u200cنيكان"),  # a ZWNJ where a space was stored
        ("پارس ۲۴", "پارس 24"),  # Persian digits stored, Latin typed
        ("Pars 24", "٢٤"),  # Arabic-Indic typed
        ("سَلامت گستر", "سلامت"),  # a fatha stored (a name the table cannot fold alone)
        ("Straße Logistik", "STRASSE"),  # ß folds to two letters
        ("ＡＣＭＥ Widgets", "acme w"),  # full-width letters
    ],
)
def test_suggestions_match_whichever_keyboard_typed_the_name(alpha, in_alpha, stored, typed):
    organisation = Organisation.objects.create(name=stored)
    _fillers(5)

    found = _client(alpha, "agent").get("/desk/organisations/", {"q": typed}).json()

    assert found["results"] == [{"id": organisation.pk, "name": stored}]


def test_the_stored_key_finds_exactly_what_name_key_finds(in_alpha):
    names = [
        "Acme", "ACME Corp", "a\u200ccme", "Ac me", "شرکت کیان\u200cپارس", "شركة كيان پارس",
        "كيانپارس ۱۲", "کیانپارس 12", "مهندسی سَلام", "Straße", "STRASSE", "e\u0301cole",
        "école", "ｶﾞｽ", "ガス", "ﻻمپ", "لامپ", "😀 Emoji Ltd", "𝐀𝐜𝐦𝐞 Math", "Tab\there",
        "بـــرنامه", "برنامه", "آرین", "ارین",
    ]  # fmt: skip
    Organisation.objects.bulk_create(Organisation(name=name) for name in names)
    queries = ["acme", "ac", "کیانپارس", "كيان", "12", "١٢", "سلام", "ss", "ß", "école", "ガ",
               "لا", "emoji", "acme m", "there", "برنامه", "ارین", "آرین", "me", "strasse",
               "ガス"]  # fmt: skip

    for query in queries:
        key = name_key(query)
        expected = sorted(
            (name, pk)
            for pk, name in Organisation.objects.values_list("pk", "name")
            if key in name_key(name)
        )
        found = selectors.organisation_suggestions(text=query, limit=100)
        assert sorted((name, pk) for pk, name in found) == expected, query
        whole = [pk for pk, name in Organisation.objects.values_list("pk", "name")
                 if name_key(name) == key]  # fmt: skip
        assert sorted(pk for pk, _ in selectors.organisations_named(name=query, limit=100)) == (
            sorted(whole)
        ), query
    assert {name for _, name in selectors.organisation_suggestions(text="acme")} >= {
        "Acme", "ACME Corp", "a\u200ccme", "Ac me", "𝐀𝐜𝐦𝐞 Math",
    }  # fmt: skip


def test_the_stored_key_follows_every_way_a_name_is_written(in_alpha):
    bulk = Organisation.objects.bulk_create([Organisation(name="Kian\u200cPars")])[0]
    made = Organisation.objects.create(name="Old name")
    made.name = "كيان پارس"
    made.save(update_fields=["name"])

    assert Organisation.objects.get(pk=bulk.pk).name_key == name_key("Kian\u200cPars")
    assert Organisation.objects.get(pk=made.pk).name_key == name_key("کیان‌پارس")
    assert selectors.organisations_named(name="کیان پارس") == [(made.pk, "كيان پارس")]


@pytest.mark.parametrize("q", ["", "   ", ZWNJ, "\u0640", "x" * (ORGANISATION_QUERY_MAX + 1)])
def test_an_empty_or_overlong_search_is_a_clear_400(alpha, in_alpha, acme, q):
    response = _client(alpha, "agent").get("/desk/organisations/", {"q": q})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


def test_a_search_of_the_longest_length_is_answered(alpha, in_alpha, acme):
    response = _client(alpha, "agent").get(
        "/desk/organisations/", {"q": "a" * ORGANISATION_QUERY_MAX}
    )

    assert response.status_code == 200 and response.json() == {"results": []}


def test_a_nul_in_the_search_is_a_400_not_a_server_error(alpha, in_alpha):
    response = _client(alpha, "agent").get("/desk/organisations/", {"q": "ac\x00me"})

    assert response.status_code == 400


def test_customers_and_anonymous_people_cannot_ask_for_organisations(alpha, in_alpha, acme):
    customer = _client(alpha, "customer").get("/desk/organisations/", {"q": "acme"})
    anonymous = alpha.client().get("/desk/organisations/", {"q": "acme"})
    posted = _client(alpha, "agent").post("/desk/organisations/", {"q": "acme"})

    assert customer.status_code == 403
    assert "Acme" not in customer.content.decode()
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert posted.status_code == 405


# A name typed without JavaScript.


def test_a_name_typed_without_javascript_filters_by_the_one_organisation_called_that(
    alpha, many, acme, new_ticket, people
):
    theirs = new_ticket(subject="From Acme")
    new_ticket(subject="From someone else", requester=people["other_customer"])
    client = _client(alpha, "agent")

    page = client.get(
        "/desk/", {"queue": "open", "organisation": "", "organisation_name": "ACME & sons"}
    )
    html_page = page.content.decode()

    assert _references(page) == {theirs.reference}
    assert _text_box(html_page) == ("Acme & Sons", str(acme.pk))
    # The next page and a saved view carry the id, not the name.
    saved = re.search(r'<input type="hidden" name="query" value="([^"]*)"', html_page).group(1)
    assert f"organisation={acme.pk}" in html.unescape(saved)
    assert "organisation_name" not in saved


def test_a_persian_name_typed_with_an_arabic_keyboard_resolves(alpha, many, people, new_ticket):
    kian = Organisation.objects.create(name="شرکت کیان\u200cپارس")
    _member(people["customer"], kian)
    theirs = new_ticket(subject="From Kian")
    new_ticket(subject="From someone else", requester=people["other_customer"])

    page = _client(alpha, "agent").get("/desk/", {"organisation_name": "شركت كيانپارس"})

    assert _references(page) == {theirs.reference}
    assert _text_box(page.content.decode()) == ("شرکت کیان\u200cپارس", str(kian.pk))


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("globex", "More than one organisation is called “globex”."),
        ("Initech", "No organisation is called “Initech”."),
        ("Acme", "No organisation is called “Acme”."),  # a part is not a name
    ],
)
def test_an_ambiguous_or_unknown_name_says_so_and_filters_nothing(
    alpha, many, acme, new_ticket, people, typed, message
):
    Organisation.objects.bulk_create([Organisation(name="Globex"), Organisation(name="GLOBEX")])
    everyone = {
        new_ticket(subject="From Acme").reference,
        new_ticket(subject="From someone else", requester=people["other_customer"]).reference,
    }

    page = _client(alpha, "agent").get("/desk/", {"organisation": "", "organisation_name": typed})
    html_page = page.content.decode()

    assert _references(page) == everyone
    assert f'<p class="error" id="organisation-error" role="alert">{message}</p>' in html_page
    assert _text_box(html_page) == (typed, "")


def test_without_javascript_an_edited_name_wins_over_the_id_the_page_was_rendered_with(
    alpha, many, acme, new_ticket, people
):
    initech = Organisation.objects.create(name="Initech")
    _member(people["other_customer"], initech)
    new_ticket(subject="From Acme")
    theirs = new_ticket(subject="From Initech", requester=people["other_customer"])
    client = _client(alpha, "agent")

    edited = client.get("/desk/", {"organisation": acme.pk, "organisation_name": "initech"})
    kept = client.get("/desk/", {"organisation": acme.pk, "organisation_name": "ACME & SONS"})
    emptied = client.get("/desk/", {"organisation": acme.pk, "organisation_name": " "})

    assert _references(edited) == {theirs.reference}
    assert _text_box(edited.content.decode()) == ("Initech", str(initech.pk))
    assert _text_box(kept.content.decode()) == ("Acme & Sons", str(acme.pk))
    assert len(_references(emptied)) == 2
    assert _text_box(emptied.content.decode()) == ("", "")


def test_a_picked_organisation_wins_over_another_of_the_same_name(alpha, many, people, new_ticket):
    first, second = Organisation.objects.bulk_create(
        [Organisation(name="Globex"), Organisation(name="globex")]
    )
    _member(people["customer"], second)
    theirs = new_ticket(subject="From the second Globex")

    page = _client(alpha, "agent").get(
        "/desk/", {"organisation": second.pk, "organisation_name": "Globex"}
    )

    assert _references(page) == {theirs.reference}
    assert _text_box(page.content.decode()) == ("globex", str(second.pk))
    assert first.pk != second.pk


def test_the_select_resolves_a_typed_name_too(alpha, acme, new_ticket, people):
    theirs = new_ticket(subject="From Acme")
    new_ticket(subject="From someone else", requester=people["other_customer"])

    page = _client(alpha, "agent").get("/desk/", {"organisation_name": "acme & sons"})

    assert _references(page) == {theirs.reference}
    assert f'<option value="{acme.pk}" selected>Acme &amp; Sons</option>' in page.content.decode()


# Two tenants.


def test_another_tenants_organisations_are_never_suggested_nor_resolved(
    alpha, bravo, many, acme, new_ticket, people
):
    alpha_tickets = {new_ticket(subject="From Acme").reference}
    with tenant_schema(bravo.schema_name):
        _fillers(ORGANISATION_SELECT_MAX + 1, prefix="Bravo filler")
        secret = Organisation.objects.create(name="Secret Holdings کیان")
        same_name = Organisation.objects.create(name="Acme & Sons")
    bravo_agent = _client(bravo, "agent")
    alpha_agent = _client(alpha, "agent")

    assert _suggestions(bravo_agent, "secret") == ["Secret Holdings کیان"]
    assert _suggestions(alpha_agent, "secret") == []
    assert _suggestions(alpha_agent, "كيان") == []
    assert _suggestions(alpha_agent, "bravo") == []
    assert [
        item["id"]
        for item in alpha_agent.get("/desk/organisations/", {"q": "acme"}).json()["results"]
    ] == [acme.pk]
    by_name = alpha_agent.get(
        "/desk/", {"queue": "all", "organisation_name": "Secret Holdings کیان"}
    )
    assert "No organisation is called" in by_name.content.decode()
    assert _text_box(by_name.content.decode())[1] == ""
    assert _references(by_name) == alpha_tickets
    # The same name in both: each tenant's page resolves it to its own organisation.
    alpha_page = alpha_agent.get("/desk/", {"organisation_name": "Acme & Sons"})
    bravo_page = bravo_agent.get("/desk/", {"organisation_name": "Acme & Sons"})
    assert _text_box(alpha_page.content.decode())[1] == str(acme.pk)
    assert _text_box(bravo_page.content.decode())[1] == str(same_name.pk)
    assert _references(bravo_page) == set()
    assert secret.pk
