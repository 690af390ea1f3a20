"""Signing up an organisation on the public site."""

import pytest
from django.utils import translation
from django.utils.translation import gettext
from django_tenants.utils import schema_exists

from accounts.models import User
from tenants.context import public_schema, tenant_schema
from tenants.models import Domain, PoolSchema, Tenant
from tests.conftest import PASSWORD

GOOD = {
    "organisation": "Kilo Trading",
    "subdomain": "kilo",
    "owner_name": "Kim Kilo",
    "email": "Kim@Kilo.example",
    "password": PASSWORD,
}


def _signup(client, **changes):
    return client.post("/signup/", {**GOOD, **changes}, HTTP_HOST="localhost")


def test_landing_page_has_the_signup_form(public_client):
    response = public_client.get("/")

    assert response.status_code == 200
    for name in ("organisation", "subdomain", "owner_name", "email", "password"):
        assert f'name="{name}"' in response.content.decode()


def test_signup_creates_tenant_domain_and_owner_and_signs_the_owner_in(tenants, client):
    response = _signup(client)

    assert response.status_code == 302
    assert response["Location"].startswith("http://kilo.localhost/accounts/handoff/?token=")
    with public_schema():
        tenant = Tenant.objects.get(slug="kilo")
        assert tenant.name == "Kilo Trading"
        assert Domain.objects.get(tenant=tenant, is_primary=True).domain == "kilo.localhost"
    with tenant_schema(tenant.schema_name):
        owner = User.objects.get()
        assert (owner.email, owner.name, owner.is_superuser) == (
            "kim@kilo.example",
            "Kim Kilo",
            True,
        )

    # The hand-off link signs the owner in on the tenant's own host, exactly once.
    path = response["Location"].removeprefix("http://kilo.localhost")
    landed = client.get(path, HTTP_HOST="kilo.localhost")
    assert landed.status_code == 302 and landed["Location"] == "/admin/"
    admin = client.get("/admin/", HTTP_HOST="kilo.localhost")
    assert admin.status_code == 200
    assert b"Kim Kilo" in admin.content or b"kim@kilo.example" in admin.content

    replay = client.get(path, HTTP_HOST="kilo.localhost")
    assert replay.status_code == 400


def test_handoff_token_of_one_tenant_does_not_sign_in_on_another(tenants, client):
    response = _signup(client)
    path = response["Location"].removeprefix("http://kilo.localhost")

    elsewhere = client.get(path, HTTP_HOST="alpha.localhost")

    assert elsewhere.status_code == 400
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("subdomain", "message"),
    [
        ("alpha", "already taken"),
        ("admin", "reserved"),
        ("www", "reserved"),
        ("ab", "between 3 and 30"),
        ("a", "between 3 and 30"),
        ("a" * 31, "30 characters"),
        ("-kilo", "lowercase English letters"),
        ("kilo_co", "lowercase English letters"),
        ("ki--lo", "lowercase English letters"),
        ("شرکت", "lowercase English letters"),
        ("", "This field is required"),
    ],
)
def test_bad_subdomains_get_clear_errors_and_leave_nothing(tenants, client, subdomain, message):
    response = _signup(client, subdomain=subdomain)

    assert response.status_code == 400
    assert message in response.content.decode()
    with public_schema():
        assert Tenant.objects.count() == 3  # public, alpha, bravo


def test_uppercase_subdomain_is_lowered_not_refused(tenants, client):
    response = _signup(client, subdomain="KiLo")

    assert response.status_code == 302
    with public_schema():
        assert Tenant.objects.filter(slug="kilo").exists()


def test_persian_and_arabic_digits_in_a_subdomain_become_ascii(tenants, client):
    response = _signup(client, subdomain="kilo۲٠۲۶")

    assert response.status_code == 302
    with public_schema():
        assert Tenant.objects.filter(slug="kilo2026").exists()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "too short"),
        ("password1234", "too common"),
        ("12345678901234", "entirely numeric"),
        ("kim@kilo.example", "too similar"),
    ],
)
def test_weak_passwords_are_refused(tenants, client, password, message):
    response = _signup(client, password=password)

    assert response.status_code == 400
    assert message in response.content.decode()
    with public_schema():
        assert not Tenant.objects.filter(slug="kilo").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Enter a valid email address"),
        ("organisation", "   ", "This field is required"),
        ("organisation", "x" * 101, "at most 100 characters"),
        ("owner_name", "", "This field is required"),
    ],
)
def test_other_bad_fields_are_refused(tenants, client, field, value, message):
    response = _signup(client, **{field: value})

    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_duplicate_submit_gets_taken_and_keeps_the_first_tenant(tenants, client):
    first = _signup(client)
    second = _signup(client, email="someone.else@example.com")

    assert first.status_code == 302
    assert second.status_code == 400
    assert "already taken" in second.content.decode()
    with public_schema():
        tenant = Tenant.objects.get(slug="kilo")
    with tenant_schema(tenant.schema_name):
        assert list(User.objects.values_list("email", flat=True)) == ["kim@kilo.example"]


def test_signup_failing_half_way_leaves_nothing_behind(tenants, client, settings):
    settings.TENANT_SETUP_STEPS = [
        "accounts.services.user_create_owner",
        "tests.tenants.test_provisioning.exploding_step",
    ]
    with public_schema():
        pooled = PoolSchema.objects.get()

    with pytest.raises(RuntimeError):
        _signup(client)

    assert not schema_exists("t_kilo")
    with public_schema():
        assert not Tenant.objects.filter(slug="kilo").exists()
        assert not Domain.objects.filter(domain="kilo.localhost").exists()
        assert PoolSchema.objects.filter(pk=pooled.pk).exists()


@pytest.mark.parametrize("language", ["fa", "ar"])
def test_errors_and_page_are_translated_and_right_to_left(tenants, client, language):
    response = client.post(
        "/signup/",
        {**GOOD, "subdomain": "alpha"},
        HTTP_HOST="localhost",
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert f'lang="{language}" dir="rtl"' in body
    with translation.override(language):
        texts = [gettext(t) for t in ENGLISH_TEXTS]
    for english, translated in zip(ENGLISH_TEXTS, texts, strict=True):
        assert translated != english, f"untranslated in {language}: {english}"
        assert translated in body


ENGLISH_TEXTS = ["This subdomain is already taken.", "Create your helpdesk", "Organisation name"]
