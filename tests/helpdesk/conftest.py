from __future__ import annotations

import pytest

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
