"""Receivers at the seam with Wagtail's admin: department members are edited in the
Department snippet's inline panel (modelcluster saves and deletes the rows itself), so
a membership that ends is heard here and closes the agent's live sockets."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from accounts.services import access_revoked
from helpdesk.models import DepartmentMember


@receiver(post_delete, sender=DepartmentMember, dispatch_uid="helpdesk.member_removed")
def member_removed(sender, instance: DepartmentMember, **kwargs) -> None:
    access_revoked(user_id=instance.user_id)


@receiver(pre_save, sender=DepartmentMember, dispatch_uid="helpdesk.member_stored")
def member_stored(sender, instance: DepartmentMember, raw: bool = False, **kwargs) -> None:
    # post_save cannot tell what the row was; remember it (no query for a new row).
    instance._stored_membership = (  # type: ignore[attr-defined]
        None
        if raw or instance.pk is None
        else DepartmentMember.objects.filter(pk=instance.pk)
        .values_list("department_id", "user_id")
        .first()
    )


@receiver(post_save, sender=DepartmentMember, dispatch_uid="helpdesk.member_moved")
def member_moved(sender, instance: DepartmentMember, **kwargs) -> None:
    stored = instance.__dict__.pop("_stored_membership", None)
    if stored is not None and stored != (instance.department_id, instance.user_id):
        access_revoked(user_id=stored[1])
