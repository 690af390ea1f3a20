"""Alpha's brand, logo and cached brand never reach bravo."""

from django.core.cache import cache

from branding.selectors import brand_cache_key
from tenants.context import tenant_schema
from tests.branding.support import make_image, set_brand


def test_one_tenants_brand_logo_and_cache_never_show_on_another(alpha, bravo):
    with tenant_schema(alpha.schema_name):
        logo = make_image("Alpha secret logo")
        set_brand(portal_name="Alpha Care", logo=logo, primary_colour="#aa0000")
        logo_file = logo.file.name.rsplit("/", 1)[1].split(".")[0]
    with tenant_schema(bravo.schema_name):
        set_brand(portal_name="Bravo Help", primary_colour="#0000bb")

    alpha_html = alpha.client().get("/track/").content.decode()
    bravo_html = bravo.client().get("/track/").content.decode()
    alpha_again = alpha.client().get("/track/").content.decode()  # from the cache now

    assert "Alpha Care" in alpha_html and "#aa0000" in alpha_html
    assert "Alpha Care" in alpha_again and "#aa0000" in alpha_again
    assert "Bravo Help" in bravo_html and "#0000bb" in bravo_html
    assert "Alpha Care" not in bravo_html and "#aa0000" not in bravo_html
    assert logo_file not in bravo_html and alpha.schema_name not in bravo_html
    assert "brand-logo" not in bravo_html
    with tenant_schema(alpha.schema_name):
        assert cache.get(brand_cache_key(alpha.schema_name)).name == "Alpha Care"
    with tenant_schema(bravo.schema_name):
        assert cache.get(brand_cache_key(bravo.schema_name)).name == "Bravo Help"


def test_the_brand_cache_key_carries_the_schema(alpha, bravo):
    assert alpha.schema_name in brand_cache_key(alpha.schema_name)
    assert brand_cache_key(alpha.schema_name) != brand_cache_key(bravo.schema_name)


def test_saving_one_tenants_brand_clears_only_its_own_cache(alpha, bravo):
    alpha.client().get("/track/")
    bravo.client().get("/track/")

    with tenant_schema(alpha.schema_name):
        set_brand(portal_name="Alpha Care")
        assert cache.get(brand_cache_key(alpha.schema_name)) is None
    with tenant_schema(bravo.schema_name):
        assert cache.get(brand_cache_key(bravo.schema_name)).name == "Bravo Ltd"
