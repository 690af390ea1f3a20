"""Customer profiles: made at signup, joined to an organisation by a verified address's
domain, edited in the Wagtail admin; an organisation manager then sees colleagues'
tickets."""

import re

import pytest
from django.core import mail

from accounts.models import Role, User
from accounts.services import user_create
from helpdesk.models import Channel, CustomerProfile, Department, Organisation
from helpdesk.services.profiles import customer_profile_ensure, organisation_members_attach
from helpdesk.services.tickets import ticket_create
from tenants.context import tenant_schema
from tests.conftest import PASSWORD


@pytest.fixture
def acme(in_alpha) -> Organisation:
    return Organisation.objects.create(name="Acme", email_domains=["@Acme.Example "])


@pytest.fixture
def owner_client(alpha):
    client = alpha.client()
    client.cookies["sessionid"] = alpha.sessions["owner"]
    return client


def _customer(email: str, *, verified: bool = True) -> User:
    return user_create(email=email, password=PASSWORD, email_verified=verified)


def _sign_up_and_confirm(tenant, email: str) -> User:
    client = tenant.client()
    signed_up = client.post(
        "/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert signed_up.status_code == 302, signed_up.content.decode()[:2000]
    body = mail.outbox[-1].body
    confirm = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", body)
    assert confirm, body
    with tenant_schema(tenant.schema_name):
        user = User.objects.get(email__iexact=email)
        # Signed up, not yet confirmed: a profile, but no organisation by a typed address.
        assert CustomerProfile.objects.get(user=user).organisation_id is None
    client.post(confirm.group(1))
    return user


def test_a_customer_signing_up_at_an_organisations_domain_joins_it(alpha, acme, mailoutbox):
    user = _sign_up_and_confirm(alpha, "Jane@acme.example")

    with tenant_schema(alpha.schema_name):
        profile = CustomerProfile.objects.get(user=user)
        assert profile.organisation == acme
        assert (profile.is_vip, profile.sees_organisation_tickets) == (False, False)


def test_a_domain_of_tenant_a_never_attaches_a_signup_on_tenant_b(alpha, bravo, acme, mailoutbox):
    user = _sign_up_and_confirm(bravo, "jane@acme.example")

    with tenant_schema(bravo.schema_name):
        assert CustomerProfile.objects.get(user=user).organisation_id is None
        assert not Organisation.objects.filter(name="Acme").exists()
    with tenant_schema(alpha.schema_name):
        assert not acme.members.exists()


@pytest.mark.parametrize(
    "email",
    [
        "jane@evil-acme.example",
        "jane@sub.acme.example",
        "jane@acme.example.evil",
        "acme.example@other.example",
        "jane@acmeexample",
    ],
)
def test_lookalike_domains_join_nothing(acme, email):
    profile = customer_profile_ensure(user=_customer(email))

    assert profile is not None and profile.organisation_id is None


def test_an_unverified_address_joins_nothing_until_confirmed(acme):
    user = _customer("jane@acme.example", verified=False)

    assert customer_profile_ensure(user=user).organisation_id is None
    user.emailaddress_set.update(verified=True)
    assert customer_profile_ensure(user=user).organisation == acme


def test_staff_get_no_profile(acme, people):
    agent = user_create(
        email="agent2@acme.example", password=PASSWORD, role=Role.AGENT, email_verified=True
    )

    for user in (agent, people["owner"], people["manager"]):
        assert customer_profile_ensure(user=user) is None
    assert not CustomerProfile.objects.filter(user__in=[agent, people["owner"]]).exists()


def test_ensure_is_idempotent_and_keeps_an_organisation_set_by_hand(acme):
    user = _customer("jane@acme.example")
    first = customer_profile_ensure(user=user)
    other = Organisation.objects.create(name="Other")
    first.organisation = other
    first.save(update_fields=["organisation"])

    again = customer_profile_ensure(user=user)

    assert again.pk == first.pk and again.organisation == other
    assert CustomerProfile.objects.filter(user=user).count() == 1


def test_a_domain_two_organisations_list_joins_neither(acme):
    Organisation.objects.create(name="Acme Twin", email_domains=["acme.example"])

    assert customer_profile_ensure(user=_customer("jane@acme.example")).organisation_id is None


def test_adding_a_domain_attaches_existing_verified_customers_only_once(in_alpha):
    jane = _customer("jane@acme.example")
    unverified = _customer("joe@acme.example", verified=False)
    lookalike = _customer("eve@evil-acme.example")
    elsewhere = _customer("kim@acme.example")
    other = Organisation.objects.create(name="Other")
    CustomerProfile.objects.update_or_create(user=elsewhere, defaults={"organisation": other})
    acme = Organisation.objects.create(name="Acme")

    acme.email_domains = ["ACME.example"]
    acme.save()

    assert set(acme.members.values_list("user__email", flat=True)) == {"jane@acme.example"}
    assert CustomerProfile.objects.get(user=elsewhere).organisation == other
    # Their profiles (every customer has one) stay without an organisation.
    assert not CustomerProfile.objects.filter(
        user__in=[unverified, lookalike], organisation__isnull=False
    ).exists()
    # An admin takes Jane out; saving the organisation again does not pull her back.
    CustomerProfile.objects.filter(user=jane).update(organisation=None)
    acme.is_vip = True
    acme.save()
    assert not acme.members.exists()
    assert organisation_members_attach(organisation=acme, previous_domains=["acme.example"]) == 0


def test_admin_lists_finds_and_edits_a_customer_profile(owner_client, bravo, acme, people):
    customer = people["customer"]
    customer_profile_ensure(user=customer)

    listing = owner_client.get("/admin/snippets/helpdesk/customerprofile/")
    found = owner_client.get(
        "/admin/snippets/helpdesk/customerprofile/", {"q": customer.email.split("@")[0]}
    )
    profile = CustomerProfile.objects.get(user=customer)
    edited = owner_client.post(
        f"/admin/snippets/helpdesk/customerprofile/edit/{profile.pk}/",
        {"organisation": acme.pk, "is_vip": "on", "sees_organisation_tickets": "on"},
    )

    assert listing.status_code == 200 and customer.email in listing.content.decode()
    assert customer.email in found.content.decode()
    assert edited.status_code == 302, edited.content.decode()[:2000]
    profile.refresh_from_db()
    assert (profile.organisation, profile.is_vip, profile.sees_organisation_tickets) == (
        acme,
        True,
        True,
    )
    bravo_owner = bravo.client()
    bravo_owner.cookies["sessionid"] = bravo.sessions["owner"]
    bravo_page = bravo_owner.get("/admin/snippets/helpdesk/customerprofile/")
    assert bravo_page.status_code == 200 and customer.email not in bravo_page.content.decode()


def test_admin_cannot_add_or_delete_a_profile(owner_client, people):
    profile = customer_profile_ensure(user=people["customer"])

    listing = owner_client.get("/admin/snippets/helpdesk/customerprofile/").content.decode()

    assert "/admin/snippets/helpdesk/customerprofile/add/" not in listing
    assert owner_client.get("/admin/snippets/helpdesk/customerprofile/add/").status_code in (
        302,
        403,
    )
    deleted = owner_client.post(f"/admin/snippets/helpdesk/customerprofile/delete/{profile.pk}/")
    assert deleted.status_code in (302, 403)
    assert CustomerProfile.objects.filter(pk=profile.pk).exists()


def test_agents_and_customers_cannot_open_the_customers_admin(alpha):
    for role in ("agent", "customer"):
        client = alpha.client()
        client.cookies["sessionid"] = alpha.sessions[role]
        response = client.get("/admin/snippets/helpdesk/customerprofile/")
        assert response.status_code in (302, 403)


def test_an_organisation_manager_sees_a_colleagues_ticket_on_the_portal(
    alpha, owner_client, people
):
    acme = Organisation.objects.create(name="Alpha Org", email_domains=["alpha.test"])
    manager, colleague = people["customer"], people["other_customer"]
    for user in (manager, colleague):
        assert customer_profile_ensure(user=user).organisation == acme
    ticket = ticket_create(
        subject="Colleague's printer",
        body_text="Out of toner.",
        department=Department.objects.get(slug="general"),
        channel=Channel.PORTAL,
        requester=colleague,
    )
    portal = alpha.client()
    portal.cookies["sessionid"] = alpha.sessions["customer"]
    assert ticket.organisation == acme
    assert ticket.reference not in portal.get("/tickets/").content.decode()

    profile = CustomerProfile.objects.get(user=manager)
    owner_client.post(
        f"/admin/snippets/helpdesk/customerprofile/edit/{profile.pk}/",
        {"organisation": acme.pk, "sees_organisation_tickets": "on"},
    )

    assert ticket.reference in portal.get("/tickets/").content.decode()
    assert portal.get(f"/tickets/{ticket.reference}/").status_code == 200


def test_every_customer_account_has_a_profile_however_it_was_made(in_alpha, bravo):
    from accounts.models import Role
    from accounts.services import user_create
    from tenants.context import tenant_schema

    made = user_create(
        email="made.by.admin@example.test", password="x-Long-enough-9", role=Role.CUSTOMER
    )
    agent = user_create(email="new.agent@example.test", password="x-Long-enough-9", role=Role.AGENT)

    assert CustomerProfile.objects.filter(user=made, organisation=None).exists()
    assert not CustomerProfile.objects.filter(user=agent).exists()
    with tenant_schema(bravo.schema_name):  # made in alpha: bravo has no such profile
        assert not CustomerProfile.objects.filter(user__email=made.email).exists()


def test_the_migration_gives_existing_customers_their_profile(in_alpha, people):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("helpdesk.migrations.0009_customer_profiles_for_everyone")
    customer = people["customer"]
    CustomerProfile.objects.filter(user=customer).delete()  # as before the signal existed

    migration.profiles_make(apps, None)
    migration.profiles_make(apps, None)  # again: nothing twice

    assert CustomerProfile.objects.filter(user=customer).count() == 1
    assert not CustomerProfile.objects.filter(user=people["agent"]).exists()


def test_confirming_an_address_brings_the_guest_requests_made_with_it(alpha, bravo, mailoutbox):
    from helpdesk.models import Ticket

    def guest_ticket(tenant, email):
        with tenant_schema(tenant.schema_name):
            return ticket_create(
                subject="Asked as a guest", body_text="Before I had an account.",
                department=Department.objects.get(slug="general"), channel=Channel.PORTAL,
                requester_email=email, requester_name="Guest",
            )  # fmt: skip

    mine = guest_ticket(alpha, "later.member@example.test")
    someone_else = guest_ticket(alpha, "someone.else@example.test")
    other_tenant = guest_ticket(bravo, "later.member@example.test")

    user = _sign_up_and_confirm(alpha, "Later.Member@example.test")

    with tenant_schema(alpha.schema_name):
        assert Ticket.objects.get(pk=mine.pk).requester_id == user.pk
        assert Ticket.objects.get(pk=someone_else.pk).requester_id is None
    with tenant_schema(bravo.schema_name):
        assert Ticket.objects.get(pk=other_tenant.pk).requester_id is None


# --- which domains an organisation may list ----------------------------------------------


def test_admin_refuses_webmail_public_suffixes_and_malformed_domains(owner_client, in_alpha):
    response = owner_client.post(
        "/admin/snippets/helpdesk/organisation/add/",
        {"name": "Leaky", "email_domains": "leaky.example, Gmail.com, co.uk, not a domain"},
    )

    page = response.content.decode()
    assert response.status_code == 200  # the form again, with its errors
    assert "Anyone can have an address at “gmail.com”" in page
    assert "“co.uk” is shared by the domains of many owners" in page
    assert "“not a domain” is not a domain name" in page
    assert not Organisation.objects.filter(name="Leaky").exists()


def test_admin_refuses_a_domain_another_organisation_lists(owner_client, acme):
    response = owner_client.post(
        "/admin/snippets/helpdesk/organisation/add/",
        {"name": "Acme Twin", "email_domains": "acme.example"},
    )

    assert response.status_code == 200
    assert "“acme.example” is listed by Acme already." in response.content.decode()
    assert not Organisation.objects.filter(name="Acme Twin").exists()


def test_admin_saves_domains_cleaned_and_once(owner_client, in_alpha):
    response = owner_client.post(
        "/admin/snippets/helpdesk/organisation/add/",
        {"name": "Globex", "email_domains": "@Globex.Example., globex.example, globex.co.uk"},
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert Organisation.objects.get(name="Globex").email_domains == [
        "globex.example",
        "globex.co.uk",
    ]


def test_the_domain_errors_are_in_the_admins_language(in_alpha):
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override("fa"), pytest.raises(ValidationError) as refused:
        Organisation(name="Leaky", email_domains=["gmail.com"]).full_clean()

    message = refused.value.message_dict["email_domains"][0]
    assert "gmail.com" in message and "Anyone can have" not in message


def test_a_webmail_domain_saved_before_it_was_refused_joins_nobody(in_alpha):
    # Rows saved before the form refused webmail domains (clean() bypassed).
    leaky = Organisation.objects.create(name="Leaky", email_domains=["gmail.com"])
    stranger = _customer("stranger@gmail.com")

    assert customer_profile_ensure(user=stranger).organisation_id is None
    leaky.email_domains = ["gmail.com", "yahoo.com"]
    assert organisation_members_attach(organisation=leaky, previous_domains=[]) == 0
    assert not leaky.members.exists()


def test_a_domain_listed_on_tenant_b_is_not_taken_on_tenant_a(alpha, bravo, acme):
    with tenant_schema(bravo.schema_name):
        bravo_acme = Organisation(name="Bravo's Acme", email_domains=["acme.example"])
        bravo_acme.full_clean()  # alpha's "Acme" lists it: nothing to do with bravo
        bravo_acme.save()
    with tenant_schema(alpha.schema_name):
        twin = Organisation(name="Acme Twin", email_domains=["acme.example"])
        with pytest.raises(Exception, match="listed by Acme already"):
            twin.full_clean()


def test_domains_are_spelled_as_mail_servers_read_them(in_alpha):
    from helpdesk.email_domains import clean_domain

    # IDNA 2008: ß and ZWNJ are letters of their own, not "ss" and nothing.
    assert clean_domain("Straße.de") != clean_domain("strasse.de")
    assert clean_domain("شرکت\u200cما.ایران") != clean_domain("شرکتما.ایران")
    assert clean_domain("München.de") == clean_domain("xn--mnchen-3ya.de")
    assert clean_domain("ＡＣＭＥ.example") == "acme.example"
    strasse = Organisation(name="Straße GmbH", email_domains=["straße.de"])
    strasse.full_clean()
    strasse.save()
    other = _customer("x@strasse.de")
    assert customer_profile_ensure(user=other).organisation_id is None
    umlaut = _customer("anna@straße.de")
    assert customer_profile_ensure(user=umlaut).organisation_id == strasse.pk
