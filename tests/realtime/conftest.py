from __future__ import annotations

import threading

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection

from saas.asgi import application
from tenants.context import tenant_schema


def socket(host: str, path: str = "/ws/desk/", *, session: str | None = None):
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    if session:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.fixture
def live(django_db_setup, django_db_blocker):
    """Committed data for socket tests: the consumer reads from its own DB connection,
    so what it must see has to be committed. Everything made here is removed afterwards
    (the session tenants stay as they were)."""
    from django_tasks_db.models import DBTaskResult

    from helpdesk.models import OutboundEmail, Ticket
    from realtime.models import Event

    tenants = django_db_setup
    with django_db_blocker.unblock():
        marks = {}
        for key, fixture in tenants.items():
            with tenant_schema(fixture.schema_name):
                marks[key] = {
                    model: (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)
                    for model in (Ticket, Event, OutboundEmail)
                }
        tasks_before = set(DBTaskResult.objects.values_list("pk", flat=True))

        def run(fixture, fn, *args, **kwargs):
            def inner():
                with tenant_schema(fixture.schema_name):
                    return fn(*args, **kwargs)

            return database_sync_to_async(inner)()

        yield run

        def clean_up():
            # On its own connection: this test's main connection may sit inside the `db`
            # fixture's transaction, where deletes would be rolled back with it.
            try:
                for key, fixture in tenants.items():
                    with tenant_schema(fixture.schema_name):
                        for model, last in marks[key].items():
                            model.objects.filter(pk__gt=last).delete()
                DBTaskResult.objects.exclude(pk__in=tasks_before).delete()
            finally:
                connection.close()

        worker = threading.Thread(target=clean_up)
        worker.start()
        worker.join()


def live_ticket(tenant, department="general", requester="customer", subject="Live ticket"):
    """A portal ticket of ``tenant``'s ``requester`` (run it inside ``live``)."""
    from accounts.models import User
    from helpdesk.models import Channel, Department
    from helpdesk.services import tickets as services

    return services.ticket_create(
        subject=subject,
        body_text="It broke",
        department=Department.objects.get(slug=department),
        channel=Channel.PORTAL,
        requester=User.objects.get(pk=tenant.users[requester]),
    )


async def frames_until_quiet(communicator, *, limit: int = 100, quiet: float = 0.5) -> list[dict]:
    """Every frame until the socket stays quiet for ``quiet`` seconds, batches opened up."""
    frames = []
    for _ in range(limit):
        if await communicator.receive_nothing(timeout=quiet):
            break
        frame = await communicator.receive_json_from()
        frames.extend(frame["frames"] if frame.get("type") == "batch" else [frame])
    return frames


def inline_db_call(fn):
    """``tenants.channels_middleware.db_call`` for scripted reads: no thread, no DB."""

    async def call(*args):
        return fn(*args)

    return call
