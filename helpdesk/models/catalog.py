"""What a tenant admin sets up: departments, categories, statuses, custom fields, canned replies."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.search import index


class Tier(models.IntegerChoices):
    L1 = 1, _("Tier 1")
    L2 = 2, _("Tier 2")


class Department(ClusterableModel):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=60, unique=True, allow_unicode=True)
    description = models.TextField(_("description"), blank=True)
    is_public = models.BooleanField(
        _("customers can choose it"),
        default=True,
        help_text=_("Internal-only departments take tickets from agents and the API only."),
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_departments",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("description"),
        FieldPanel("is_public"),
        FieldPanel("manager"),
        InlinePanel("members", label=_("Members")),
        InlinePanel("categories", label=_("Categories")),
    ]

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class DepartmentMember(models.Model):
    department = ParentalKey(Department, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.CASCADE,
        related_name="department_memberships",
    )
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices, default=Tier.L1)

    panels = [FieldPanel("user"), FieldPanel("tier")]

    class Meta:
        verbose_name = _("department member")
        verbose_name_plural = _("department members")
        constraints = [
            models.UniqueConstraint(fields=["department", "user"], name="department_member_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.department}"


class Category(models.Model):
    department = ParentalKey(Department, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    panels = [FieldPanel("name"), FieldPanel("position")]

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class StatusCategory(models.TextChoices):
    """The fixed life-cycle stages every custom status maps to."""

    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


ACTIVE_CATEGORIES = (StatusCategory.NEW, StatusCategory.OPEN, StatusCategory.PENDING)


class TicketStatus(models.Model):
    key = models.SlugField(_("key"), max_length=40, unique=True)
    agent_label = models.CharField(_("label for agents"), max_length=60)
    customer_label = models.CharField(_("label for customers"), max_length=60)
    category = models.CharField(_("stage"), max_length=10, choices=StatusCategory.choices)
    is_default = models.BooleanField(
        _("default for its stage"),
        default=False,
        help_text=_("Used when the system moves a ticket into this stage."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    panels = [
        FieldPanel("agent_label"),
        FieldPanel("customer_label"),
        FieldPanel("key"),
        FieldPanel("category"),
        FieldPanel("is_default"),
        FieldPanel("position"),
    ]

    class Meta:
        ordering = ["position"]
        verbose_name = _("ticket status")
        verbose_name_plural = _("ticket statuses")
        constraints = [
            models.UniqueConstraint(
                fields=["category"],
                condition=models.Q(is_default=True),
                name="one_default_status_per_stage",
            )
        ]

    def __str__(self) -> str:
        return self.agent_label


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    CHOICE = "choice", _("Choice")
    DATE = "date", _("Date")
    CHECKBOX = "checkbox", _("Checkbox")


class CustomField(models.Model):
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="custom_fields"
    )
    key = models.SlugField(_("key"), max_length=40)
    label = models.CharField(_("label"), max_length=100)
    field_type = models.CharField(_("type"), max_length=10, choices=FieldType.choices)
    choices = models.TextField(_("choices"), blank=True, help_text=_("One choice per line."))
    required = models.BooleanField(_("required"), default=False)
    customer_visible = models.BooleanField(
        _("customers see and fill it"), default=True, help_text=_("Otherwise staff-only.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    panels = [
        FieldPanel("department"),
        FieldPanel("label"),
        FieldPanel("key"),
        FieldPanel("field_type"),
        FieldPanel("choices"),
        FieldPanel("required"),
        FieldPanel("customer_visible"),
        FieldPanel("position"),
    ]

    class Meta:
        ordering = ["department", "position"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        constraints = [
            models.UniqueConstraint(fields=["department", "key"], name="custom_field_key_once")
        ]

    def __str__(self) -> str:
        return f"{self.department}: {self.label}"

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class CannedReply(index.Indexed, models.Model):
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(
        _("body"),
        help_text=_(
            "Placeholders: {customer_name}, {ticket_reference}, {ticket_subject}, {agent_name}."
        ),
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("Empty: available in every department."),
    )

    panels = [FieldPanel("title"), FieldPanel("department"), FieldPanel("body")]
    search_fields = [index.SearchField("title"), index.SearchField("body")]

    class Meta:
        ordering = ["title"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def __str__(self) -> str:
        return self.title
