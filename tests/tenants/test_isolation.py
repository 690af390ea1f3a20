"""What tenant A creates is invisible to tenant B: users, sessions, pages, sites, cache, media."""

from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from wagtail.models import Page, Site

from accounts.models import User
from kb_pages.models import PortalHomePage
from tenants.context import tenant_schema


def test_users_live_only_in_their_own_schema(alpha, bravo):
    with tenant_schema(alpha.schema_name):
        alpha_emails = set(User.objects.values_list("email", flat=True))
    with tenant_schema(bravo.schema_name):
        bravo_emails = set(User.objects.values_list("email", flat=True))

    assert "agent@alpha.test" in alpha_emails and "agent@alpha.test" not in bravo_emails
    assert "agent@bravo.test" in bravo_emails and "agent@bravo.test" not in alpha_emails


def test_sessions_live_only_in_their_own_schema(alpha, bravo):
    with tenant_schema(bravo.schema_name):
        assert not Session.objects.filter(session_key=alpha.sessions["owner"]).exists()
    with tenant_schema(alpha.schema_name):
        assert Session.objects.filter(session_key=alpha.sessions["owner"]).exists()


def test_each_tenant_has_its_own_site_on_its_own_domain(alpha, bravo):
    with tenant_schema(alpha.schema_name):
        alpha_sites = list(Site.objects.values_list("hostname", "site_name"))
    with tenant_schema(bravo.schema_name):
        bravo_sites = list(Site.objects.values_list("hostname", "site_name"))

    assert alpha_sites == [("alpha.localhost", "Alpha Corp")]
    assert bravo_sites == [("bravo.localhost", "Bravo Ltd")]


def test_a_page_published_in_a_is_not_served_or_listed_in_b(alpha, bravo, client):
    with tenant_schema(alpha.schema_name):
        home = PortalHomePage.objects.get(locale__language_code="en")
        home.add_child(instance=Page(title="Alpha secret plans", slug="secret-plans"))

    assert client.get("/secret-plans/", HTTP_HOST=alpha.host).status_code == 200
    assert client.get("/secret-plans/", HTTP_HOST=bravo.host).status_code == 404
    with tenant_schema(bravo.schema_name):
        assert not Page.objects.filter(slug="secret-plans").exists()


def test_portal_home_shows_its_own_tenant(alpha, bravo, client):
    alpha_home = client.get("/", HTTP_HOST=alpha.host).content.decode()
    bravo_home = client.get("/", HTTP_HOST=bravo.host).content.decode()

    assert "Alpha Corp" in alpha_home and "Bravo Ltd" not in alpha_home
    assert "Bravo Ltd" in bravo_home and "Alpha Corp" not in bravo_home


def test_wagtail_admin_of_a_lists_only_a_pages(alpha, bravo, client):
    client.cookies["sessionid"] = bravo.sessions["owner"]

    explorer = client.get("/admin/pages/", HTTP_HOST=bravo.host)

    assert explorer.status_code == 200
    body = explorer.content.decode()
    assert "Bravo Ltd" in body and "Alpha Corp" not in body


def test_cache_keys_carry_the_schema(alpha, bravo):
    with tenant_schema(alpha.schema_name):
        cache.set("greeting", "hello from alpha")
    with tenant_schema(bravo.schema_name):
        assert cache.get("greeting") is None
    with tenant_schema(alpha.schema_name):
        assert cache.get("greeting") == "hello from alpha"
        cache.delete("greeting")


def test_wagtail_site_root_cache_is_per_tenant(alpha, bravo, client):
    # Wagtail caches the site roots under one fixed key; warm it from alpha first.
    client.get("/", HTTP_HOST=alpha.host)
    with tenant_schema(alpha.schema_name):
        alpha_roots = Site.get_site_root_paths()
    with tenant_schema(bravo.schema_name):
        bravo_roots = Site.get_site_root_paths()

    # One root path per language tree (en, fa, ar), all on the tenant's own host.
    assert {r.root_url for r in alpha_roots} == {"http://alpha.localhost"}
    assert {r.root_url for r in bravo_roots} == {"http://bravo.localhost"}
    assert len(alpha_roots) == len(bravo_roots) == 3


def test_media_files_are_stored_under_the_tenants_schema(alpha, bravo, settings):
    with tenant_schema(alpha.schema_name):
        name = default_storage.save("logos/logo.txt", ContentFile(b"alpha"))
        alpha_path = default_storage.path(name)
    with tenant_schema(bravo.schema_name):
        assert not default_storage.exists(name)

    assert alpha_path.startswith(f"{settings.MEDIA_ROOT}/{alpha.schema_name}/")


def test_an_unknown_path_on_the_public_host_is_a_404_not_a_500(public_client, alpha):
    # Wagtail's redirect lookup must not run where there are no Wagtail tables.
    assert public_client.get("/no-such-page/").status_code == 404
    # ... and still runs on tenant hosts, with the tenant's own redirects.
    from wagtail.contrib.redirects.models import Redirect

    with tenant_schema(alpha.schema_name):
        Redirect.objects.create(old_path="/old-faq", redirect_link="/kb/")
    moved = alpha.client().get("/old-faq/")
    assert (moved.status_code, moved["Location"]) == (301, "/kb/")
    assert alpha.client().get("/no-such-page/").status_code == 404
