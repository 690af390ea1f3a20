"""REST API v1: customers and organisations. Agents read; managers and admins change
them; every rule of the admin's Customers screen holds; one tenant's people are never
another's."""

import pytest
from django.utils import translation

from accounts.models import User
from helpdesk.models import CustomerProfile, Organisation
from helpdesk.services.profiles import customer_profile_ensure
from tenants.context import tenant_schema


@pytest.fixture
def acme(in_alpha) -> Organisation:
    return Organisation.objects.create(name="Acme", email_domains=["acme.example"], is_vip=True)


# --- reading ----------------------------------------------------------------------------


def test_an_agent_pages_through_customers_in_id_order(api, people):
    first = api("get", "/customers?limit=2")
    second = api("get", f"/customers?limit=2&cursor={first.json()['next_cursor']}")

    assert first.status_code == 200, first.content
    ids = [c["id"] for c in first.json()["items"] + second.json()["items"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) == 3
    assert second.json()["next_cursor"] is None
    # Staff are not customers.
    emails = {c["email"] for c in first.json()["items"] + second.json()["items"]}
    assert emails == {"customer@alpha.test", "other.customer@alpha.test", "same.person@example.com"}


def test_customers_are_found_by_name_address_and_organisation(api, people, acme):
    CustomerProfile.objects.filter(user=people["customer"]).update(organisation=acme)

    by_name = api("get", "/customers?q=other%20cust")
    by_organisation = api("get", f"/customers?organisation={acme.pk}")
    one = api("get", f"/customers/{people['customer'].pk}")

    assert [c["email"] for c in by_name.json()["items"]] == ["other.customer@alpha.test"]
    assert [c["email"] for c in by_organisation.json()["items"]] == ["customer@alpha.test"]
    body = one.json()
    assert (body["organisation"], body["organisation_id"]) == ("Acme", acme.pk)
    assert (body["is_vip"], body["organisation_is_vip"]) == (False, True)
    assert body["is_active"] is True


def test_staff_and_unknown_ids_are_not_customers(api, people):
    for bad in (people["agent"].pk, 987654, "abc", "٣"):
        assert api("get", f"/customers/{bad}").status_code == 404


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=201", "cursor=abc", "q=" + "x" * 101, "organisation=x", "q=%00"],
)
def test_bad_list_parameters_get_a_clear_error(api, query):
    response = api("get", f"/customers?{query}")

    assert response.status_code in (400, 422), response.content
    assert response.json()["error"]["message"]


def test_customers_cannot_read_the_directory(api):
    for path in ("/customers", "/organisations"):
        response = api("get", path, role="customer")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"


# --- creating and changing customers ----------------------------------------------------


def test_a_manager_creates_a_customer_with_an_organisation(api, acme):
    created = api(
        "post", "/customers", role="manager",
        body={"email": " New.Person@Elsewhere.example ", "name": "Nasrin", "language": "fa",
              "organisation_id": acme.pk, "is_vip": True},
    )  # fmt: skip

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["email"], body["name"], body["language"]) == (
        "new.person@elsewhere.example", "Nasrin", "fa",
    )  # fmt: skip
    assert (body["organisation_id"], body["is_vip"]) == (acme.pk, True)
    person = User.objects.get(pk=body["id"])
    assert person.role == "customer" and not person.has_usable_password()
    assert person.emailaddress_set.get().verified is False


def test_a_new_customer_at_an_organisations_domain_does_not_join_it_unconfirmed(api, acme):
    created = api("post", "/customers", role="manager", body={"email": "joe@acme.example"})

    assert created.status_code == 201
    assert created.json()["organisation_id"] is None  # the address is not confirmed


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": "customer@alpha.test"}, "email"),  # exists
        ({"email": "CUSTOMER@alpha.test"}, "email"),  # exists, other case
        ({"email": "agent@alpha.test"}, "email"),  # a colleague's address
        ({"email": "x@y.example", "language": "de"}, "language"),
        ({"email": "x@y.example", "organisation_id": 987654}, "organisation_id"),
        ({"email": "x@y.example", "name": "n" * 151}, "name"),
        ({"email": "agent@ａｌｐｈａ.test"}, "email"),  # full-width: a colleague's mailbox
        ({"email": "x@y.example", "name": "a\u0000b"}, "name"),  # PostgreSQL holds no NUL
        ({"email": "x@y.example", "vip": True}, "vip"),  # unknown fields are refused
        ({"email": "x@y.example", "sees_organisation_tickets": True}, "sees_organisation_tickets"),
        ({"email": "x@y.example", "organisation_id": 0}, "organisation_id"),
        ({"email": "x@y.example", "organisation_id": False}, "organisation_id"),
    ],
)
def test_a_refused_customer_is_not_created(api, body, field):
    before = User.objects.count()

    response = api("post", "/customers", role="manager", body=body)

    assert response.status_code in (400, 422), response.content
    assert field in response.json()["error"]["fields"]
    assert User.objects.count() == before


def test_the_errors_are_in_the_callers_language(api):
    response = api(
        "post", "/customers", role="manager", body={"email": "customer@alpha.test"},
        HTTP_ACCEPT_LANGUAGE="fa",
    )  # fmt: skip

    with translation.override("fa"):
        expected = translation.gettext("Someone with this address has an account already.")
    assert expected != "Someone with this address has an account already."
    assert response.json()["error"]["fields"]["email"] == [expected]


def test_a_manager_changes_a_customer_all_or_nothing(api, people, acme):
    customer = people["customer"]
    customer_profile_ensure(user=customer)

    changed = api(
        "patch", f"/customers/{customer.pk}", role="manager",
        body={"name": "Cy", "organisation_id": acme.pk, "sees_organisation_tickets": True},
    )  # fmt: skip
    refused = api(
        "patch", f"/customers/{customer.pk}", role="manager",
        body={"name": "Never saved", "organisation_id": 987654},
    )  # fmt: skip
    removed = api(
        "patch", f"/customers/{customer.pk}", role="manager", body={"organisation_id": None}
    )

    assert changed.status_code == 200, changed.content
    assert (changed.json()["name"], changed.json()["organisation_id"]) == ("Cy", acme.pk)
    assert changed.json()["sees_organisation_tickets"] is True
    assert refused.status_code == 400
    customer.refresh_from_db()
    assert customer.name == "Cy"
    assert removed.json()["organisation_id"] is None
    assert removed.json()["name"] == "Cy"  # absent fields are left as they are


def test_agents_and_customers_cannot_change_customers(api, people, acme):
    customer = people["customer"]
    for role in ("agent", "customer"):
        patched = api(
            "patch", f"/customers/{customer.pk}", role=role, body={"organisation_id": acme.pk}
        )
        created = api("post", "/customers", role=role, body={"email": "x@y.example"})
        assert (patched.status_code, created.status_code) == (403, 403)
    assert CustomerProfile.objects.get(user=customer).organisation_id is None


def test_a_staff_account_cannot_be_changed_as_a_customer(api, people):
    response = api(
        "patch", f"/customers/{people['agent'].pk}", role="manager", body={"is_vip": True}
    )

    assert response.status_code == 404


# --- organisations ------------------------------------------------------------------------


def test_a_manager_creates_lists_and_changes_an_organisation(api, in_alpha):
    created = api(
        "post", "/organisations", role="manager",
        body={"name": "Globex", "email_domains": ["@Globex.Example"]},
    )  # fmt: skip
    org_id = created.json()["id"]
    listed = api("get", "/organisations?q=glob")
    changed = api("patch", f"/organisations/{org_id}", role="manager", body={"is_vip": True})

    assert created.status_code == 201, created.content
    assert created.json()["email_domains"] == ["globex.example"]
    assert [o["name"] for o in listed.json()["items"]] == ["Globex"]
    assert changed.json() == {
        "id": org_id, "name": "Globex", "is_vip": True, "email_domains": ["globex.example"]
    }  # fmt: skip


def test_an_organisation_takes_in_its_confirmed_customers(api, in_alpha):
    confirmed = customer_profile_ensure(user=User.objects.get(email="customer@alpha.test"))
    assert confirmed.organisation_id is None

    created = api(
        "post", "/organisations", role="manager",
        body={"name": "Alpha Test Co", "email_domains": ["alpha.test"]},
    )  # fmt: skip

    members = api("get", f"/customers?organisation={created.json()['id']}")
    assert {c["email"] for c in members.json()["items"]} == {
        "customer@alpha.test", "other.customer@alpha.test",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "Leaky", "email_domains": ["gmail.com"]}, 400),
        ({"name": "Leaky", "email_domains": ["co.uk"]}, 400),
        ({"name": "Leaky", "email_domains": ["acme.example"]}, 400),  # Acme's
        ({"name": "Leaky", "email_domains": ["not a domain"]}, 400),
        ({"name": "Leaky", "email_domains": ["x" * 121]}, 422),
        ({"name": ""}, 422),
        ({"email_domains": []}, 422),
    ],
)
def test_a_refused_organisation_is_not_saved(api, acme, body, code):
    response = api("post", "/organisations", role="manager", body=body)

    assert response.status_code == code, response.content
    assert response.json()["error"]["fields"]
    assert list(Organisation.objects.values_list("name", flat=True)) == ["Acme"]


def test_an_agent_cannot_create_or_change_an_organisation(api, acme):
    created = api("post", "/organisations", body={"name": "Mine"})
    changed = api("patch", f"/organisations/{acme.pk}", body={"email_domains": ["x.example"]})

    assert (created.status_code, changed.status_code) == (403, 403)
    acme.refresh_from_db()
    assert acme.email_domains == ["acme.example"]


# --- two tenants ------------------------------------------------------------------------


def test_tenant_bs_token_never_sees_or_touches_tenant_as_people(
    api, token_for, alpha, bravo, people, acme
):
    alpha_customer = people["customer"]

    listed = api("get", "/customers?limit=200", role="manager", tenant=bravo)
    read = api("get", f"/customers/{alpha_customer.pk}", role="manager", tenant=bravo)
    patched = api(
        "patch", f"/customers/{alpha_customer.pk}", role="manager", tenant=bravo,
        body={"name": "Hijacked"},
    )  # fmt: skip
    organisation = api("get", f"/organisations/{acme.pk}", role="manager", tenant=bravo)
    joined = api(
        "post", "/customers", role="manager", tenant=bravo,
        body={"email": "someone@bravo.example", "organisation_id": acme.pk},
    )  # fmt: skip
    # Alpha's token on bravo's host is no token at all.
    crossed = api("get", "/customers", role="manager", tenant=bravo, token=token_for("manager"))

    emails = {c["email"] for c in listed.json()["items"]}
    assert "customer@alpha.test" not in emails and "customer@bravo.test" in emails
    # The shared address is bravo's own row, not alpha's.
    with tenant_schema(bravo.schema_name):
        bravo_shared = User.objects.get(email="same.person@example.com").pk
    assert {c["id"] for c in listed.json()["items"] if c["email"] == "same.person@example.com"} == {
        bravo_shared
    }
    # Ids are per tenant: the same number on bravo is bravo's own person or nobody.
    if read.status_code == 200:
        assert read.json()["email"] != "customer@alpha.test"
    else:
        assert (read.status_code, patched.status_code) == (404, 404)
    assert organisation.status_code == 404
    assert joined.status_code == 400 and "organisation_id" in joined.json()["error"]["fields"]
    assert crossed.status_code == 401
    with tenant_schema(alpha.schema_name):
        assert User.objects.get(pk=alpha_customer.pk).name == alpha_customer.name


# --- who reads the organisation's tickets -------------------------------------------------


def test_moving_a_customer_to_another_organisation_or_none_ends_what_they_saw(api, people, acme):
    customer = people["customer"]
    globex = Organisation.objects.create(name="Globex")
    api(
        "patch", f"/customers/{customer.pk}", role="manager",
        body={"organisation_id": acme.pk, "sees_organisation_tickets": True},
    )  # fmt: skip

    moved = api(
        "patch", f"/customers/{customer.pk}", role="manager", body={"organisation_id": globex.pk}
    )
    removed = api(
        "patch", f"/customers/{customer.pk}", role="manager", body={"organisation_id": None}
    )

    assert moved.json()["sees_organisation_tickets"] is False
    assert removed.json()["sees_organisation_tickets"] is False


def test_seeing_the_organisations_tickets_needs_an_organisation_and_nothing_is_half_saved(
    api, people
):
    customer = people["customer"]

    refused = api(
        "patch", f"/customers/{customer.pk}", role="manager",
        body={"name": "Not saved", "sees_organisation_tickets": True},
    )  # fmt: skip

    assert refused.status_code == 400
    assert "sees_organisation_tickets" in refused.json()["error"]["fields"]
    customer.refresh_from_db()
    assert customer.name != "Not saved"  # the service's transaction undid the name too


def test_joining_by_a_domain_never_grants_the_organisations_tickets(api, people):
    from helpdesk.services.profiles import customer_update

    customer = people["customer"]
    # A flag left from before (data of an older version): joining must not revive it.
    CustomerProfile.objects.filter(user=customer).update(sees_organisation_tickets=True)

    created = api(
        "post", "/organisations", role="manager",
        body={"name": "Alpha Test Co", "email_domains": ["alpha.test"]},
    )  # fmt: skip

    profile = CustomerProfile.objects.get(user=customer)
    assert profile.organisation_id == created.json()["id"]
    assert profile.sees_organisation_tickets is False
    assert customer_update  # the service that grants it, by a manager's hand
