"""Signing in per tenant with allauth: users and sessions live in the tenant's schema."""

import re

from django.core.cache import cache

from tests.conftest import PASSWORD


def _login(client, host, email, password=PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password}, HTTP_HOST=host)


def test_agent_signs_in_and_out_on_their_tenant(alpha, client):
    response = _login(client, alpha.host, "agent@alpha.test")

    assert response.status_code == 302
    assert client.get("/admin/", HTTP_HOST=alpha.host).status_code in (200, 302)
    assert client.session["_auth_user_id"] == str(alpha.users["agent"])

    logout = client.post("/accounts/logout/", HTTP_HOST=alpha.host)

    assert logout.status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_user_of_one_tenant_cannot_sign_in_on_another(alpha, bravo, client):
    response = _login(client, bravo.host, "agent@alpha.test")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "not correct" in response.content.decode()


def test_the_same_email_is_two_people_in_two_tenants(alpha, bravo, client):
    _login(client, alpha.host, "same.person@example.com")
    alpha_user = client.session["_auth_user_id"]
    client.post("/accounts/logout/", HTTP_HOST=alpha.host)
    _login(client, bravo.host, "same.person@example.com")

    assert alpha_user == str(alpha.users["shared"])
    assert client.session["_auth_user_id"] == str(bravo.users["shared"])


def test_a_session_cookie_of_tenant_a_opens_nothing_on_tenant_b(alpha, bravo, client):
    client.cookies["sessionid"] = alpha.sessions["owner"]

    on_alpha = client.get("/admin/", HTTP_HOST=alpha.host)
    on_bravo = client.get("/admin/", HTTP_HOST=bravo.host)

    assert on_alpha.status_code == 200
    assert on_bravo.status_code == 302
    assert "/admin/login/" in on_bravo["Location"]


def test_failed_logins_lock_out_only_in_their_own_tenant(alpha, bravo, client):
    cache.clear()
    for _ in range(6):
        _login(client, alpha.host, "same.person@example.com", password="wrong-password-1")

    locked = _login(client, alpha.host, "same.person@example.com")
    elsewhere = _login(Client_for(bravo), bravo.host, "same.person@example.com")

    assert locked.status_code == 429 or "Too many failed login attempts" in locked.content.decode()
    assert elsewhere.status_code == 302
    cache.clear()


def Client_for(tenant):  # noqa: N802 - reads like a constructor at the call site
    return tenant.client()


def test_password_reset_email_arrives_over_smtp_with_a_link_on_the_tenant_host(alpha, client, smtp):
    response = client.post(
        "/accounts/password/reset/", {"email": "customer@alpha.test"}, HTTP_HOST=alpha.host
    )

    assert response.status_code == 302
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == "customer@alpha.test"
    body = smtp.body(message)
    link = re.search(r"http://alpha\.localhost(/accounts/password/reset/key/\S+)", body)
    assert link, body

    form = client.get(link.group(1), HTTP_HOST=alpha.host, follow=True)
    action = form.redirect_chain[-1][0] if form.redirect_chain else link.group(1)
    changed = client.post(
        action,
        {"password1": "a-brand-new-passphrase-7", "password2": "a-brand-new-passphrase-7"},
        HTTP_HOST=alpha.host,
    )
    assert changed.status_code == 302
    assert (
        _login(
            alpha.client(), alpha.host, "customer@alpha.test", "a-brand-new-passphrase-7"
        ).status_code
        == 302
    )


def test_password_reset_for_another_tenants_user_sends_nothing_useful(alpha, bravo, client, smtp):
    client.post("/accounts/password/reset/", {"email": "customer@bravo.test"}, HTTP_HOST=alpha.host)

    bodies = [smtp.body(m) for m in smtp.messages]
    assert not any("password/reset/key" in body for body in bodies)


def test_portal_signup_sends_a_verification_email_over_smtp(alpha, client, smtp):
    response = client.post(
        "/accounts/signup/",
        {"email": "new.customer@example.com", "password1": PASSWORD, "password2": PASSWORD},
        HTTP_HOST=alpha.host,
    )

    assert response.status_code == 302
    assert len(smtp.messages) == 1
    body = smtp.body(smtp.messages[0])
    confirm = re.search(r"http://alpha\.localhost(/accounts/confirm-email/\S+)", body)
    assert confirm, body
    # Mandatory verification: no session until the address is confirmed.
    assert "_auth_user_id" not in client.session

    client.post(confirm.group(1), HTTP_HOST=alpha.host)

    assert client.session.get("_auth_user_id")
