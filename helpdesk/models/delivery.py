"""Outgoing email, written in the same transaction as the change that causes it.

A background task sends each row once: ``sent_at`` is set under a row lock, so a retry
after a crash or a second worker never sends the same email twice, and an SMTP outage
only delays the row -- the reply that caused it is already saved.
"""

from __future__ import annotations

from django.db import models


class OutboundEmail(models.Model):
    dedupe_key = models.CharField(max_length=120, unique=True)
    to = models.EmailField()
    subject = models.CharField(max_length=250)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    language = models.CharField(max_length=10, default="en")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"], name="outbound_unsent", condition=models.Q(sent_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"
