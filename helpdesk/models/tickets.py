"""The conversation: tickets, their messages, attachments, history and links.

Channel-neutral from the start: a message records the channel it came by (portal,
email, API, later SMS, chat, phone), never a channel-specific shape.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from helpdesk.models.catalog import Category, Department, StatusCategory, TicketStatus, Tier
from helpdesk.models.customers import Organisation


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    MEDIUM = 2, _("Medium")
    HIGH = 3, _("High")
    CRITICAL = 4, _("Critical")


class Level(models.IntegerChoices):
    """Impact and urgency, each low / medium / high."""

    LOW = 1, _("Low")
    MEDIUM = 2, _("Medium")
    HIGH = 3, _("High")


class Channel(models.TextChoices):
    PORTAL = "portal", _("Portal")
    EMAIL = "email", _("Email")
    API = "api", _("API")
    AGENT = "agent", _("Agent desk")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")


ACTIVE = Q(merged_into__isnull=True, stage__in=["new", "open", "pending"])


class Ticket(models.Model):
    reference = models.CharField(_("tracking code"), max_length=16, unique=True)
    subject = models.CharField(_("subject"), max_length=200)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="tickets"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.SET_NULL
    )
    status = models.ForeignKey(TicketStatus, verbose_name=_("status"), on_delete=models.PROTECT)
    # Copied from status.category so queues filter on one indexed column.
    stage = models.CharField(_("stage"), max_length=10, choices=StatusCategory.choices)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.MEDIUM
    )
    impact = models.PositiveSmallIntegerField(_("impact"), choices=Level.choices, default=Level.LOW)
    urgency = models.PositiveSmallIntegerField(
        _("urgency"), choices=Level.choices, default=Level.MEDIUM
    )
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices, default=Tier.L1)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # The language the requester wrote in (the portal page's, or what an integration
    # said): their emails use it when they have no account language, as guests never do.
    # A database default too, so bulk loads that leave the column out still get one.
    language = models.CharField(_("language"), max_length=10, default="en", db_default="en")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requested_tickets",
    )
    requester_email = models.EmailField(_("requester email"))
    requester_name = models.CharField(_("requester name"), max_length=150, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    tags = ArrayField(models.CharField(max_length=50), verbose_name=_("tags"), default=list)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_tickets"
    )
    master = models.ForeignKey(
        "self",
        verbose_name=_("master incident"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="linked_incidents",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Normalised text of subject, reference, requester and public + internal messages.
    search_document = SearchVectorField(null=True, editable=False)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["-updated_at", "-id"], name="ticket_updated"),
            models.Index(fields=["stage", "-updated_at"], name="ticket_stage_updated"),
            models.Index(
                fields=["department", "stage", "-updated_at"], name="ticket_dept_stage_updated"
            ),
            models.Index(
                fields=["assignee", "stage", "-updated_at"], name="ticket_assignee_stage_upd"
            ),
            models.Index(fields=["requester", "-created_at"], name="ticket_requester_created"),
            models.Index(
                fields=["requester_email", "-created_at"], name="ticket_requester_email_created"
            ),
            # The open queues: partial indexes over the ~15% of tickets still active.
            models.Index(
                fields=["-updated_at", "-id"], condition=ACTIVE, name="ticket_active_updated"
            ),
            models.Index(
                fields=["-priority", "-updated_at", "-id"],
                condition=ACTIVE,
                name="ticket_active_priority",
            ),
            models.Index(
                fields=["department", "-updated_at", "-id"],
                include=["assignee"],
                condition=ACTIVE,
                name="ticket_active_dept",
            ),
            # "Mine" by priority or by last change: an agent may hold thousands of open
            # tickets, which the (assignee, stage) index hands over unsorted.
            models.Index(
                fields=["assignee", "-priority", "-updated_at", "-id"],
                condition=ACTIVE,
                name="ticket_active_assignee_prio",
            ),
            models.Index(
                fields=["assignee", "-updated_at", "-id"],
                condition=ACTIVE,
                name="ticket_active_assignee_upd",
            ),
            # "Waiting on customer": the planner reads the whole table for it otherwise.
            models.Index(
                fields=["-updated_at", "-id"],
                condition=Q(merged_into__isnull=True, stage="pending"),
                name="ticket_waiting_updated",
            ),
            models.Index(fields=["organisation", "-created_at"], name="ticket_org_created"),
            GinIndex(fields=["search_document"], name="ticket_search_gin"),
            GinIndex(fields=["tags"], name="ticket_tags_gin"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=4), name="ticket_priority_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.stage in (StatusCategory.NEW, StatusCategory.OPEN, StatusCategory.PENDING)


class MessageKind(models.TextChoices):
    PUBLIC = "public", _("Public reply")
    INTERNAL = "internal", _("Internal note")


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ticket_messages",
    )
    author_name = models.CharField(max_length=150, blank=True)
    author_email = models.EmailField(blank=True)
    from_staff = models.BooleanField(default=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # Sanitised HTML (nh3) and its plain-text twin for email and search.
    body_html = models.TextField()
    body_text = models.TextField()
    mentions = ArrayField(models.BigIntegerField(), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_created")]

    def __str__(self) -> str:
        return f"{self.ticket.reference} #{self.pk}"

    @property
    def is_internal(self) -> bool:
        return self.kind == MessageKind.INTERNAL


def attachment_path(instance: Attachment, filename: str) -> str:
    # TenantFileSystemStorage already puts each schema in its own folder.
    return f"attachments/{instance.ticket_id}/{instance.token}/{filename}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    token = models.CharField(max_length=32, unique=True)
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class TicketEvent(models.Model):
    """One line of the ticket's history: who changed what, when."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    kind = models.CharField(max_length=30)
    data = models.JSONField(default=dict)
    # Shown on the customer's side of the timeline too (status changes), or staff-only.
    is_public = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_created")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"


class TicketLink(models.Model):
    """Two tickets about related things (merges and master incidents have their own FKs)."""

    from_ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    to_ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_ticket", "to_ticket"], name="ticket_link_once"),
            models.CheckConstraint(
                condition=~Q(from_ticket=models.F("to_ticket")), name="ticket_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_ticket_id} -> {self.to_ticket_id}"


class TicketSeen(models.Model):
    """When an agent last opened (or acted on) a ticket: the queue marks the tickets that
    changed since, or that the agent has never opened."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "ticket"], name="ticket_seen_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} saw {self.ticket_id} at {self.seen_at:%Y-%m-%d %H:%M}"


class SavedView(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters"), max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
