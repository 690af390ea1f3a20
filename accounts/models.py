"""People. The table exists in every tenant schema (that tenant's admins, agents and
customers) and in the public schema (platform staff); nobody spans two schemas."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class EmailUserManager(UserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):  # type: ignore[override]
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):  # type: ignore[override]
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):  # type: ignore[override]
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Administrator")


STAFF_ROLES = frozenset({Role.AGENT, Role.MANAGER, Role.ADMIN})


class User(AbstractUser):
    """Signs in with an email address; ``name`` is how agents and customers see them.

    ``role`` decides what a person may do in the helpdesk: customers use the portal,
    agents work their departments' tickets, managers see every ticket, administrators
    also run the Wagtail admin. ``is_staff`` mirrors "works the desk".
    """

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), max_length=254, unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.CUSTOMER)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = EmailUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]
        indexes = [
            # The desk lists its agents on every queue and ticket page: a few dozen staff
            # among tens of thousands of customers (5 ms a page as a sequential scan).
            models.Index(fields=["name"], condition=Q(is_staff=True), name="user_staff_name"),
        ]

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def is_agent(self) -> bool:
        return self.is_active and (self.role in STAFF_ROLES or self.is_superuser)

    @property
    def is_manager(self) -> bool:
        return self.is_active and (self.role in (Role.MANAGER, Role.ADMIN) or self.is_superuser)

    def get_full_name(self) -> str:
        return self.name or super().get_full_name() or self.email

    def get_short_name(self) -> str:
        return (self.name.split(" ")[0] if self.name else "") or self.email
