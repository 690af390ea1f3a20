"""Writes on users. Called inside the tenant's schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypedDict

from allauth.account.models import EmailAddress
from django.db import connection, transaction

from accounts.models import STAFF_ROLES, Role, User
from realtime.publish import publish_on_commit

if TYPE_CHECKING:
    from tenants.models import Tenant
    from tenants.provisioning import OwnerDetails


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    name: str = "",
    role: str = Role.CUSTOMER,
    email_verified: bool = False,
    language: str = "",
) -> User:
    """A user of the current tenant, with the allauth address record allauth expects.

    ``password`` None: none to sign in with until they set one ("forgot password")."""
    user = User.objects.create_user(
        email=email,
        password=password,
        name=name,
        role=role,
        is_staff=role in STAFF_ROLES,
        is_superuser=role == Role.ADMIN,
        language=language,
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=email_verified)
    return user


def user_create_owner(*, tenant: Tenant, owner: OwnerDetails) -> User:
    """Setup step of a new tenant: its owner administers everything in it.

    The address is not yet verified: the owner is signed in by the signup hand-off,
    and confirms the address from the email allauth sends on first password sign-in.
    """
    return user_create(email=owner.email, password=owner.password, name=owner.name, role=Role.ADMIN)


@transaction.atomic
def user_set_role(*, user: User, role: str) -> User:
    """Customer, agent, manager or administrator; staff and superuser flags follow.

    Any change of role closes the user's live sockets: they reconnect and are given the
    audiences of the role they have now (an agent who was a manager loses "managers").
    """
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    # The role as stored, not as on ``user``: a ModelForm has already copied the new
    # role onto the instance by the time it calls this.
    stored = (
        User.objects.select_for_update().filter(pk=user.pk).values_list("role", flat=True).first()
    )
    user.role = role
    user.is_staff = role in STAFF_ROLES
    user.is_superuser = role == Role.ADMIN
    user.save(update_fields=["role", "is_staff", "is_superuser"])
    if stored is not None and stored != role:
        access_revoked(user_id=user.pk)
    return user


def user_deactivate(*, user: User) -> User:
    """Sign the person out everywhere: no new sign-in, and open sockets close at once."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    access_revoked(user_id=user.pk)
    return user


class AccessRevoked(TypedDict):
    type: Literal["access.revoked"]
    v: int


def access_revoked(*, user_id: int) -> None:
    """Close every live socket of the user; they reconnect and are judged anew."""
    event: AccessRevoked = {"type": "access.revoked", "v": 1}
    publish_on_commit(
        schema_name=connection.schema_name,
        audiences=[f"user.{user_id}", f"user.{user_id}.portal"],
        event=event,
    )
