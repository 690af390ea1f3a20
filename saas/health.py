"""/healthz on every host: the database, the channel layer and the task queue."""

from __future__ import annotations

import asyncio
import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django_tasks_db.models import DBTaskResult


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def _check_channel_layer() -> dict:
    layer = get_channel_layer()
    if layer is None:
        return {"ok": False, "error": "no channel layer configured"}

    async def roundtrip() -> bool:
        channel = await layer.new_channel("healthz.")
        token = uuid.uuid4().hex
        await layer.send(channel, {"type": "healthz", "token": token})
        message = await layer.receive(channel)
        return message.get("token") == token

    async def bounded() -> bool:
        return await asyncio.wait_for(roundtrip(), timeout=3)

    return {"ok": async_to_sync(bounded)(), "backend": type(layer).__name__}


def _check_task_queue() -> dict:
    # Tasks live in the public schema; the tenant's search_path falls through to it.
    ready = DBTaskResult.objects.filter(status="READY").count()
    return {"ok": True, "ready": ready}


CHECKS = {
    "database": _check_database,
    "channel_layer": _check_channel_layer,
    "task_queue": _check_task_queue,
}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            results[name] = check()
        except Exception as exc:  # a health check reports failures, it doesn't raise them
            results[name] = {"ok": False, "error": type(exc).__name__}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    healthy = all(result["ok"] for result in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": results},
        status=200 if healthy else 503,
    )
