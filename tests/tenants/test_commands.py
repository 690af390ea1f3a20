"""Operating tenants from the command line."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_exists

from tenants.context import public_schema
from tenants.models import Tenant
from tests.conftest import PASSWORD


def _run(*args, **kwargs) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_create_list_and_delete_a_tenant(tenants, monkeypatch):
    created = _run(
        "tenant_create",
        "november",
        "--name",
        "November Co",
        "--owner-email",
        "Nora@November.test",
        "--owner-password",
        PASSWORD,
    )
    listed = _run("tenant_list")
    monkeypatch.setattr("builtins.input", lambda prompt: "november")
    deleted = _run("tenant_delete", "november")

    assert "Created november (schema t_november) on november.localhost" in created
    assert "november\tt_november\tactive\tNovember Co\tnovember.localhost" in listed
    assert "alpha\tt_alpha" in listed and "public" not in listed
    assert "dropped schema t_november" in deleted
    assert not schema_exists("t_november")


def test_delete_needs_the_subdomain_typed_back(tenants, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")

    with pytest.raises(CommandError, match="Not confirmed"):
        _run("tenant_delete", "alpha")

    assert schema_exists("t_alpha")
    with public_schema():
        assert Tenant.objects.filter(slug="alpha").exists()


def test_delete_refuses_unknown_and_public(tenants):
    with pytest.raises(CommandError, match="No tenant"):
        _run("tenant_delete", "nobody", "--yes")
    with pytest.raises(CommandError, match="No tenant"):
        _run("tenant_delete", "public", "--yes")


def test_create_reports_bad_input(tenants):
    with pytest.raises(CommandError, match="reserved"):
        _run(
            "tenant_create",
            "www",
            "--name",
            "X",
            "--owner-email",
            "x@x.test",
            "--owner-password",
            PASSWORD,
        )


def test_pool_status_fill_and_drain(tenants):
    assert "1 ready, 0 stale, target 1" in _run("pool")
    assert "Dropped 1" in _run("pool", "drain")
    assert "Cloned 2" in _run("pool", "fill", "--size", "2")
    assert "2 ready" in _run("pool", "status")
