"""The helpdesk's websockets: ``/ws/desk/`` for agents, ``/ws/portal/`` for customers.

Which audiences a user joins is decided here, from the database, never from the client:
agents hear their departments, their own tickets and (managers) everything; customers
hear only their own tickets' public events. A client may ask to watch one ticket; the
same access check as the pages decides, with the user as stored at that moment, and it
is decided again when an event moves the ticket to another department or assignee.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404

from helpdesk.access import ticket_get_for_user_or_404
from helpdesk.models import CustomerProfile, DepartmentMember
from helpdesk.services.tickets import tickets_mark_seen
from realtime.consumers import EventStreamConsumer
from tenants.channels_middleware import db_call
from tenants.context import tenant_schema

# A ticket event that changes one of these may take the ticket out of an agent's reach
# (its "changes", helpdesk/events.py: a transfer, an assignment, an escalation).
ACCESS_CHANGES = frozenset({"department", "assignee"})


class DeskConsumer(EventStreamConsumer):
    def frame_handlers(self) -> dict[str, Any]:
        return {**super().frame_handlers(), "seen": self.on_seen}

    async def on_seen(self, content: dict[str, Any]) -> None:
        """The agent's open ticket page showed a change live: the queue need not mark it.

        ``{"type": "seen", "ticket": <a watched reference>, "updated_at": <ISO time of the
        change shown>}``; a mark never goes past the ticket's own last change."""
        reference, stamp = content.get("ticket"), content.get("updated_at")
        if not isinstance(reference, str) or reference not in self.watching:
            await self.send_json({"type": "error", "error": "malformed_frame"})
            return
        try:
            as_of = dt.datetime.fromisoformat(stamp[:40]) if isinstance(stamp, str) else None
        except ValueError:
            as_of = None
        if as_of is None or as_of.tzinfo is None:
            await self.send_json({"type": "error", "error": "malformed_frame"})
            return
        marked = getattr(self, "marked_seen", {})
        if reference in marked and as_of <= marked[reference]:
            return  # nothing newer than what this socket already marked: no write
        if not await db_call(self._mark_seen)(reference, as_of):
            await self.send_json({"type": "error", "error": "not_found"})
            return
        self.marked_seen = {**marked, reference: as_of}

    def _mark_seen(self, reference: str, as_of: dt.datetime) -> bool:
        with tenant_schema(self.schema_name):
            # Read again, as the pages do: the role, the account and the departments
            # may have changed since the socket opened.
            user = self.current_user()
            if user is None or not user.is_agent:
                return False
            try:
                ticket = ticket_get_for_user_or_404(user=user, reference=reference)
            except Http404:
                return False
            tickets_mark_seen(user=user, tickets=[ticket], as_of=as_of)
            return True

    def audiences_for_user(self, user) -> list[str] | None:
        if not user.is_agent:
            return None
        departments = DepartmentMember.objects.filter(user=user).values_list(
            "department_id", flat=True
        )
        audiences = [f"user.{user.pk}", *(f"dept.{d}" for d in departments)]
        if user.is_manager:
            audiences.append("managers")
        return audiences

    def watch_audience(self, user, ticket_reference: str) -> str | None:
        # A former agent would pass the access check as a customer (their own requests)
        # and then hear the staff audience: internal notes.
        if not user.is_agent:
            return None
        try:
            ticket = ticket_get_for_user_or_404(user=user, reference=ticket_reference)
        except Http404:
            return None
        return f"ticket.{ticket.pk}"

    def event_may_end_watch(self, event: dict[str, Any]) -> bool:
        changes = event.get("changes")
        return isinstance(changes, list) and any(change in ACCESS_CHANGES for change in changes)


class PortalConsumer(EventStreamConsumer):
    def audiences_for_user(self, user) -> list[str] | None:
        audiences = [f"user.{user.pk}.portal"]
        # An organisation's manager sees its tickets on the portal (helpdesk.access), so
        # hears their public events too. Changing either closes the socket (signals).
        profile = CustomerProfile.objects.filter(user=user).first()
        if profile is not None and profile.sees_organisation_tickets and profile.organisation_id:
            audiences.append(f"org.{profile.organisation_id}.portal")
        return audiences

    def watch_audience(self, user, ticket_reference: str) -> str | None:
        try:
            ticket = ticket_get_for_user_or_404(user=user, reference=ticket_reference)
        except Http404:
            return None
        return f"ticket.{ticket.pk}.public"
