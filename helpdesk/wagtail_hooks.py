"""The helpdesk in each tenant's Wagtail admin: departments, statuses, custom fields,
canned replies, organisations, customers, and who works the desk in which role."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import FieldPanel
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from accounts.models import User
from accounts.services import user_deactivate, user_set_role
from helpdesk.models import (
    CannedReply,
    CustomerProfile,
    CustomField,
    Department,
    Organisation,
    TicketStatus,
)


class DepartmentViewSet(SnippetViewSet):
    model = Department
    icon = "group"
    menu_label = _("Departments")
    list_display = ["name", "slug", "is_public", "manager"]
    search_fields = ["name"]


class StatusViewSet(SnippetViewSet):
    model = TicketStatus
    icon = "tag"
    menu_label = _("Statuses")
    list_display = ["agent_label", "customer_label", "category", "is_default"]


class CustomFieldViewSet(SnippetViewSet):
    model = CustomField
    icon = "form"
    menu_label = _("Custom fields")
    list_display = ["label", "department", "field_type", "required", "customer_visible"]
    list_filter = ["department", "field_type"]


class CannedReplyViewSet(SnippetViewSet):
    model = CannedReply
    icon = "doc-full"
    menu_label = _("Canned replies")
    list_display = ["title", "department"]
    search_fields = ["title", "body"]


class OrganisationViewSet(SnippetViewSet):
    model = Organisation
    icon = "site"
    menu_label = _("Organisations")
    list_display = ["name", "is_vip"]
    search_fields = ["name"]


class CustomerProfilePermissionPolicy(ModelPermissionPolicy):
    """Profiles are made by signup and email confirmation (customer_profile_ensure) and
    live as long as the customer: the admin finds and edits them, never adds or deletes."""

    def user_has_permission(self, user, action):
        return action not in ("add", "delete") and super().user_has_permission(user, action)


# Before any viewset asks for the model's policy (Wagtail then makes a default one).
register_permission_policy(CustomerProfile, CustomerProfilePermissionPolicy(CustomerProfile))


class CustomerProfileViewSet(SnippetViewSet):
    model = CustomerProfile
    icon = "user"
    menu_label = _("Customers")
    list_display = [
        "user__email",
        "user__name",
        "organisation",
        "is_vip",
        "sees_organisation_tickets",
    ]
    list_filter = ["organisation", "is_vip", "sees_organisation_tickets"]
    search_fields = ["user__email", "user__name"]
    copy_view_enabled = False
    panels = [
        FieldPanel("organisation"),
        FieldPanel("is_vip"),
        FieldPanel("sees_organisation_tickets"),
    ]

    def get_queryset(self, request):
        return CustomerProfile.objects.select_related("user", "organisation").order_by(
            "user__email"
        )


class HelpdeskGroup(SnippetViewSetGroup):
    menu_label = _("Helpdesk")
    menu_icon = "help"
    menu_order = 150
    items = [
        DepartmentViewSet,
        StatusViewSet,
        CustomFieldViewSet,
        CannedReplyViewSet,
        OrganisationViewSet,
        CustomerProfileViewSet,
    ]


register_snippet(HelpdeskGroup)


class RoleForm(forms.ModelForm):
    """Changing a role goes through the service, which keeps staff flags in step."""

    class Meta:
        model = User
        fields = ["name", "role", "is_active"]

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        if commit:
            deactivated = "is_active" in self.changed_data and not user.is_active
            user.save(update_fields=["name", "is_active"])
            user_set_role(user=user, role=self.cleaned_data["role"])
            if deactivated:
                user_deactivate(user=user)
        return user


class TeamViewSet(ModelViewSet):
    model = User
    icon = "user"
    menu_label = _("Team and roles")
    menu_order = 160
    add_to_admin_menu = True
    url_prefix = "team"
    name = "team"
    list_display = ["email", "name", "role", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "name"]
    form_fields = ["name", "role", "is_active"]
    panels = [FieldPanel("name"), FieldPanel("role"), FieldPanel("is_active")]
    inspect_view_enabled = False

    def get_form_class(self, for_update: bool = False):
        return RoleForm

    def get_queryset(self, request):
        return User.objects.order_by("email")


team_viewset = TeamViewSet()


@hooks.register("register_admin_viewset")
def register_team_viewset():
    return team_viewset
