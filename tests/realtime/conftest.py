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
