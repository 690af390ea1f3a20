"""The tenant registry (public schema): organisations, their hosts and the warm pool."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    """One customer organisation: one PostgreSQL schema."""

    name = models.CharField(_("organisation name"), max_length=100)
    slug = models.SlugField(_("subdomain"), max_length=30, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    # Schemas come from the warm pool or a clone of the template, never from
    # django-tenants' own create-and-migrate path (see tenants.provisioning).
    auto_create_schema = False
    auto_drop_schema = True

    class Meta:
        ordering = ["name"]
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class Domain(DomainMixin):
    """A host name that serves one tenant (``<slug>.BASE_DOMAIN`` or a custom domain)."""

    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")

    def __str__(self) -> str:
        return self.domain


class PoolSchema(models.Model):
    """A schema already cloned from the template, waiting to be claimed by a signup.

    ``fingerprint`` is the template's applied-migrations fingerprint at clone time; a
    pooled schema whose fingerprint no longer matches the template is never claimed.
    """

    schema_name = models.CharField(max_length=63, unique=True)
    fingerprint = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("pooled schema")
        verbose_name_plural = _("pooled schemas")

    def __str__(self) -> str:
        return self.schema_name


class TemplateState(models.Model):
    """A single row: the fingerprint of the template schema as last migrated."""

    fingerprint = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.fingerprint[:12]
