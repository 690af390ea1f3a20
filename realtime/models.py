"""The event log of one tenant (a table in each tenant schema).

Every event a service emits is written here in the same transaction as the change, so
it is never lost; the id (a per-schema sequence) is what a reconnecting client sends
back to receive what it missed.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models


class Event(models.Model):
    id = models.BigAutoField(primary_key=True)
    audiences = ArrayField(models.CharField(max_length=60))
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [GinIndex(fields=["audiences"], name="realtime_event_audiences")]

    def __str__(self) -> str:
        return f"{self.pk} {self.payload.get('type')}"
