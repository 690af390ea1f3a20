"""Receivers at the seams with code we don't own.

Wagtail's admin: department members are edited in the Department snippet's inline panel
(modelcluster saves and deletes the rows itself), so a membership that ends is heard
here and closes the agent's live sockets; organisations are saved by the snippet views,
so a domain added there is heard here too. allauth: a customer who signs up or confirms
an address gets their profile (and their domain's organisation). Accounts: every
customer account has a profile from the start, however it was made (signup, an admin,
a command), so the admin's Customers screen lists them all.
"""

from __future__ import annotations

from allauth.account.signals import email_confirmed, user_signed_up
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from accounts.models import User
from accounts.services import access_revoked
from helpdesk.models import CustomerProfile, DepartmentMember, Organisation
from helpdesk.services.profiles import (
    customer_profile_ensure,
    guest_tickets_claim,
    organisation_members_attach,
)


@receiver(post_delete, sender=DepartmentMember, dispatch_uid="helpdesk.member_removed")
def member_removed(sender, instance: DepartmentMember, **kwargs) -> None:
    access_revoked(user_id=instance.user_id)


# post_save cannot tell what a row was: pre_save remembers the fields that matter (no
# query for a new row) and post_save takes them back.
STORED = "_helpdesk_stored"


def _remember(instance, raw: bool, *fields: str) -> None:
    instance.__dict__[STORED] = (
        None
        if raw or instance.pk is None
        else type(instance).objects.filter(pk=instance.pk).values_list(*fields).first()
    )


def _recalled(instance) -> tuple | None:
    return instance.__dict__.pop(STORED, None)


@receiver(pre_save, sender=DepartmentMember, dispatch_uid="helpdesk.member_stored")
def member_stored(sender, instance: DepartmentMember, raw: bool = False, **kwargs) -> None:
    _remember(instance, raw, "department_id", "user_id")


@receiver(post_save, sender=DepartmentMember, dispatch_uid="helpdesk.member_moved")
def member_moved(sender, instance: DepartmentMember, **kwargs) -> None:
    stored = _recalled(instance)
    if stored is not None and stored != (instance.department_id, instance.user_id):
        access_revoked(user_id=stored[1])


@receiver(user_signed_up, dispatch_uid="helpdesk.customer_signed_up")
def customer_signed_up(sender, user, **kwargs) -> None:
    customer_profile_ensure(user=user)


@receiver(email_confirmed, dispatch_uid="helpdesk.customer_email_confirmed")
def customer_email_confirmed(sender, email_address, **kwargs) -> None:
    customer_profile_ensure(user=email_address.user)
    guest_tickets_claim(user=email_address.user, email=email_address.email)


@receiver(pre_save, sender=Organisation, dispatch_uid="helpdesk.organisation_stored")
def organisation_stored(sender, instance: Organisation, raw: bool = False, **kwargs) -> None:
    # Only domains added by this save attach customers (see organisation_members_attach).
    _remember(instance, raw, "email_domains")


@receiver(post_save, sender=Organisation, dispatch_uid="helpdesk.organisation_saved")
def organisation_saved(sender, instance: Organisation, raw: bool = False, **kwargs) -> None:
    stored = _recalled(instance)
    if not raw:
        organisation_members_attach(
            organisation=instance, previous_domains=(stored[0] or []) if stored else []
        )


@receiver(post_save, sender=User, dispatch_uid="helpdesk.customer_account_made")
def customer_account_made(sender, instance: User, created: bool, raw: bool = False, **kwargs):
    if created and not raw and instance.role == "customer" and not instance.is_staff:
        CustomerProfile.objects.get_or_create(user=instance)


@receiver(pre_save, sender=CustomerProfile, dispatch_uid="helpdesk.profile_stored")
def profile_stored(sender, instance: CustomerProfile, raw: bool = False, **kwargs) -> None:
    _remember(instance, raw, "organisation_id", "sees_organisation_tickets")


@receiver(post_save, sender=CustomerProfile, dispatch_uid="helpdesk.profile_reach_changed")
def profile_reach_changed(sender, instance: CustomerProfile, **kwargs) -> None:
    """The organisation's tickets a customer sees changed: their portal sockets close
    and reconnect with the audiences they have now."""
    stored = _recalled(instance)
    now = (instance.organisation_id, instance.sees_organisation_tickets)
    if stored is not None and stored != now:
        access_revoked(user_id=instance.user_id)
