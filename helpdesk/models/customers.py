"""Who asks: customer organisations and the helpdesk's view of a customer."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel

from helpdesk.text import name_key


class OrganisationQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for organisation in objs:  # save() is skipped: the key is set here instead
            organisation.name_key = name_key(organisation.name)
        return super().bulk_create(objs, *args, **kwargs)


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=150)
    # The name folded as search folds text (helpdesk.text.name_key): the desk finds an
    # organisation whichever keyboard typed its name or the search. Kept by save().
    name_key = models.TextField(editable=False, default="")
    is_vip = models.BooleanField(_("VIP"), default=False)
    email_domains = ArrayField(
        models.CharField(max_length=120),
        verbose_name=_("email domains"),
        default=list,
        blank=True,
        help_text=_("Customers signing up with these domains join the organisation."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    panels = [FieldPanel("name"), FieldPanel("is_vip"), FieldPanel("email_domains")]

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        # The desk reads the first 51 by name to choose between a select and a name box,
        # and every list of them is by name: a walk down this index, not a sort.
        indexes = [models.Index(fields=["name", "id"], name="organisation_name")]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name_key = name_key(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Domains are stored cleaned, once each, and only where they say who a customer
        works for: no webmail service, no public suffix, none another organisation
        lists (a domain two organisations list would join nobody)."""
        from helpdesk.email_domains import clean_domain, organisation_domains_clean

        super().clean()
        try:
            domains = organisation_domains_clean(self.email_domains)
        except ValidationError as error:
            raise ValidationError({"email_domains": error.error_list}) from None
        others = Organisation.objects.exclude(pk=self.pk).exclude(email_domains=[])
        taken = {
            clean_domain(value): name
            for name, values in others.values_list("name", "email_domains")
            for value in values
        }
        clashes = [
            ValidationError(
                _("“%(domain)s” is listed by %(organisation)s already."),
                code="domain_taken",
                params={"domain": domain, "organisation": taken[domain]},
            )
            for domain in domains
            if domain in taken
        ]
        if clashes:
            raise ValidationError({"email_domains": clashes})
        self.email_domains = domains


class CustomerProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_profile"
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    is_vip = models.BooleanField(_("VIP"), default=False)
    sees_organisation_tickets = models.BooleanField(
        _("sees the organisation's tickets"), default=False
    )

    class Meta:
        verbose_name = _("customer profile")
        verbose_name_plural = _("customer profiles")

    def __str__(self) -> str:
        return str(self.user)
