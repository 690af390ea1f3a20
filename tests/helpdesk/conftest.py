from __future__ import annotations

import json

import pytest
from wagtail.models import APIToken

from accounts.models import User
from helpdesk.models import Channel, Department
from helpdesk.services.tickets import ticket_create
from tenants.context import tenant_schema


@pytest.fixture
def in_alpha(alpha):
    with tenant_schema(alpha.schema_name):
        yield alpha


@pytest.fixture
def people(in_alpha) -> dict[str, User]:
    return {role: User.objects.get(pk=pk) for role, pk in in_alpha.users.items()}


@pytest.fixture
def general(in_alpha) -> Department:
    return Department.objects.get(slug="general")


@pytest.fixture
def billing(in_alpha) -> Department:
    return Department.objects.get(slug="billing")


@pytest.fixture
def new_ticket(people, general):
    def make(**changes):
        fields = {
            "subject": "Printer on fire",
            "body_text": "The printer on floor 2 is on fire.",
            "department": general,
            "channel": Channel.PORTAL,
            "requester": people["customer"],
        }
        return ticket_create(**{**fields, **changes})

    return make


@pytest.fixture
def token_for(in_alpha):
    """A fresh API token of the fixture tenant's ``role`` user (alpha unless ``tenant``)."""

    def make(role: str, tenant=None) -> str:
        with tenant_schema((tenant or in_alpha).schema_name):
            user = User.objects.get(pk=(tenant or in_alpha).users[role])
            _instance, plaintext = APIToken.create_token(user=user, name=f"{role} integration")
        return plaintext

    return make


@pytest.fixture
def api(alpha, token_for):
    """``api("post", "/tickets", role="manager", body={...})``: a call to /api/v1 on the
    tenant's host (alpha unless ``tenant``) with a token of ``role`` (or ``token``); a
    ``body`` that is a str is sent as it is."""

    def call(method, path, role="agent", body=None, tenant=None, token=None, **extra):
        client = (tenant or alpha).client()
        kwargs = {
            "content_type": "application/json",
            "HTTP_AUTHORIZATION": f"Bearer {token or token_for(role, tenant)}",
            **extra,
        }
        if body is not None:
            kwargs["data"] = body if isinstance(body, str) else json.dumps(body)
        return getattr(client, method)(f"/api/v1{path}", **kwargs)

    return call
