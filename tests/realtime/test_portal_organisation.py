"""An organisation's manager sees its tickets on the portal, so their portal socket hears
those tickets' public events too; a colleague who is no manager hears only their own, and
a change of either closes the socket so it reconnects with what it may hear now."""

from __future__ import annotations

import pytest

from helpdesk.models import CustomerProfile, Organisation
from tests.realtime.conftest import frames_until_quiet, live_ticket, socket

pytestmark = pytest.mark.asyncio


def _organisation(alpha) -> int:
    """Customer manages Acme; other_customer is a plain member of it (committed)."""
    acme = Organisation.objects.create(name="Acme (live test)")
    for role, manages in (("customer", True), ("other_customer", False)):
        CustomerProfile.objects.update_or_create(
            user_id=alpha.users[role],
            defaults={"organisation": acme, "sees_organisation_tickets": manages},
        )
    return acme.pk


def _undo(alpha, acme: int) -> None:
    CustomerProfile.objects.filter(organisation_id=acme).update(
        organisation=None, sees_organisation_tickets=False
    )
    Organisation.objects.filter(pk=acme).delete()


def _request_by(alpha, role: str) -> str:
    return live_ticket(alpha, requester=role, subject=f"Request by {role}").reference


async def test_an_organisations_manager_hears_a_colleagues_new_request(alpha, live):
    acme = await live(alpha, _organisation, alpha)
    try:
        manager = socket(alpha.host, "/ws/portal/", session=alpha.sessions["customer"])
        member = socket(alpha.host, "/ws/portal/", session=alpha.sessions["other_customer"])
        assert (await manager.connect())[0] and (await member.connect())[0]

        colleagues = await live(alpha, _request_by, alpha, "other_customer")
        heard = [
            f for f in await frames_until_quiet(manager, quiet=0.7) if f.get("type") == "event"
        ]
        await frames_until_quiet(member, quiet=0.7)  # their own request: theirs to hear
        managers = await live(alpha, _request_by, alpha, "customer")
        overheard = [
            f for f in await frames_until_quiet(member, quiet=0.7) if f.get("type") == "event"
        ]

        assert [(f["event"]["type"], f["event"]["ticket"]["reference"]) for f in heard] == [
            ("ticket.created", colleagues)
        ]
        assert "department" not in heard[0]["event"]["ticket"]  # the customers' view only
        # A plain member sees only their own requests, so hears nothing of the manager's.
        assert managers and not overheard
        await manager.disconnect()
        await member.disconnect()
    finally:
        await live(alpha, _undo, alpha, acme)


async def test_a_manager_who_no_longer_manages_is_disconnected_at_once(alpha, live):
    acme = await live(alpha, _organisation, alpha)
    try:
        manager = socket(alpha.host, "/ws/portal/", session=alpha.sessions["customer"])
        assert (await manager.connect())[0]

        def step_down():
            profile = CustomerProfile.objects.get(user_id=alpha.users["customer"])
            profile.sees_organisation_tickets = False
            profile.save()

        await live(alpha, step_down)

        closed = await manager.receive_output(timeout=3)
        assert closed["type"] == "websocket.close"
    finally:
        await live(alpha, _undo, alpha, acme)
