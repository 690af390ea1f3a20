"""The helpdesk's websockets: ``/ws/desk/`` for agents, ``/ws/portal/`` for customers.

Which audiences a user joins is decided here, from the database, never from the client:
agents hear their departments, their own tickets and (managers) everything; customers
hear only their own tickets' public events. A client may ask to watch one ticket; the
same access check as the pages decides.
"""

from __future__ import annotations

from django.http import Http404

from helpdesk.access import ticket_get_for_user_or_404
from helpdesk.models import DepartmentMember
from realtime.consumers import EventStreamConsumer


class DeskConsumer(EventStreamConsumer):
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
        try:
            ticket = ticket_get_for_user_or_404(user=user, reference=ticket_reference)
        except Http404:
            return None
        return f"ticket.{ticket.pk}"


class PortalConsumer(EventStreamConsumer):
    def audiences_for_user(self, user) -> list[str] | None:
        return [f"user.{user.pk}.portal"]

    def watch_audience(self, user, ticket_reference: str) -> str | None:
        try:
            ticket = ticket_get_for_user_or_404(user=user, reference=ticket_reference)
        except Http404:
            return None
        return f"ticket.{ticket.pk}.public"
