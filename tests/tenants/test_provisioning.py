import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import schema_exists

from accounts.models import User
from tenants import provisioning
from tenants.context import public_schema, tenant_schema
from tenants.models import Domain, PoolSchema, TemplateState, Tenant
from tenants.provisioning import OwnerDetails, tenant_provision
from tests.conftest import PASSWORD

OWNER = OwnerDetails(name="Olga Owner", email="olga@example.com", password=PASSWORD)


def _unapplied_migrations(schema_name: str) -> list:
    with tenant_schema(schema_name):
        executor = MigrationExecutor(connection)
        return executor.migration_plan(executor.loader.graph.leaf_nodes())


def test_signup_claims_a_pooled_schema_and_renames_it(tenants):
    with public_schema():
        pooled = PoolSchema.objects.get()

    tenant = tenant_provision(name="Delta", slug="delta", owner=OWNER)

    assert tenant.schema_name == "t_delta"
    assert schema_exists("t_delta")
    assert not schema_exists(pooled.schema_name)
    with public_schema():
        assert not PoolSchema.objects.filter(pk=pooled.pk).exists()
        assert Domain.objects.get(tenant=tenant).domain == "delta.localhost"
    with tenant_schema("t_delta"):
        owner = User.objects.get()
        assert owner.email == "olga@example.com"
        assert owner.is_superuser and owner.check_password(PASSWORD)
    assert _unapplied_migrations("t_delta") == []


def test_signup_with_an_empty_pool_clones_the_template(tenants):
    provisioning.pool_drain()

    tenant = tenant_provision(name="Echo", slug="echo", owner=OWNER)

    assert schema_exists(tenant.schema_name)
    assert _unapplied_migrations(tenant.schema_name) == []
    with tenant_schema(tenant.schema_name):
        assert User.objects.filter(email="olga@example.com").exists()


def test_new_tenant_site_answers_on_its_own_domain(tenants, client):
    tenant_provision(name="Foxtrot Inc", slug="foxtrot", owner=OWNER)

    response = client.get("/", HTTP_HOST="foxtrot.localhost")

    assert response.status_code == 200
    assert b"Foxtrot Inc" in response.content


def test_failure_half_way_leaves_no_schema_tenant_domain_or_user(tenants, settings):
    settings.TENANT_SETUP_STEPS = [
        "accounts.services.user_create_owner",
        "tests.tenants.test_provisioning.exploding_step",
    ]
    with public_schema():
        pooled = PoolSchema.objects.get()

    with pytest.raises(RuntimeError, match="disk on fire"):
        tenant_provision(name="Golf", slug="golf", owner=OWNER)

    assert not schema_exists("t_golf")
    assert schema_exists(pooled.schema_name)  # the rename rolled back with the rest
    with public_schema():
        assert not Tenant.objects.filter(slug="golf").exists()
        assert not Domain.objects.filter(domain="golf.localhost").exists()
        assert PoolSchema.objects.filter(pk=pooled.pk).exists()
    with tenant_schema(pooled.schema_name):
        assert not User.objects.exists()


def exploding_step(*, tenant, owner):
    raise RuntimeError("disk on fire")


def test_taken_and_reserved_subdomains_are_refused(tenants):
    with pytest.raises(ValidationError) as taken:
        tenant_provision(name="Again", slug="alpha", owner=OWNER)
    with pytest.raises(ValidationError) as reserved:
        tenant_provision(name="Sneaky", slug="admin", owner=OWNER)

    assert taken.value.code == "taken"
    assert reserved.value.code == "reserved"


def test_stale_pool_schemas_are_replaced_after_the_template_migrates(tenants):
    with public_schema():
        old = PoolSchema.objects.get()
        # As if a deploy had migrated the template: its fingerprint moves on.
        TemplateState.objects.filter(pk=1).update(fingerprint="after-a-new-migration")

    result = provisioning.pool_refresh()

    assert result == {"dropped": 1, "made": 1}
    assert not schema_exists(old.schema_name)
    with public_schema():
        fresh = PoolSchema.objects.get()
    assert fresh.fingerprint == "after-a-new-migration"
    assert schema_exists(fresh.schema_name)


def test_a_stale_pooled_schema_is_never_claimed(tenants):
    with public_schema():
        stale = PoolSchema.objects.get()
        TemplateState.objects.filter(pk=1).update(fingerprint="newer")

    tenant = tenant_provision(name="Hotel", slug="hotel", owner=OWNER)

    assert schema_exists(stale.schema_name)  # left for pool_refresh to drop
    assert _unapplied_migrations(tenant.schema_name) == []


def test_template_and_pool_are_fully_migrated(tenants):
    from django.conf import settings

    with public_schema():
        pooled = PoolSchema.objects.get()
        assert TemplateState.objects.get().fingerprint == provisioning.template_fingerprint()

    assert _unapplied_migrations(settings.TENANT_TEMPLATE_SCHEMA) == []
    assert _unapplied_migrations(pooled.schema_name) == []


def test_delete_drops_the_schema_and_rows(tenants):
    tenant = tenant_provision(name="India", slug="india", owner=OWNER)

    provisioning.tenant_delete(tenant=tenant)

    assert not schema_exists("t_india")
    with public_schema():
        assert not Tenant.objects.filter(slug="india").exists()
        assert not Domain.objects.filter(domain="india.localhost").exists()
