"""Django's admin on the public host, for platform operators: tenants, domains, the pool."""

from django.conf import settings
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tenants import provisioning
from tenants.models import Domain, PoolSchema, Tenant


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "schema_name", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["slug", "name", "domains__domain"]
    readonly_fields = ["schema_name", "slug", "created_at"]
    fields = ["name", "slug", "schema_name", "is_active", "created_at"]
    inlines = [DomainInline]
    actions = ["suspend", "reactivate"]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)

    def has_add_permission(self, request):
        return False  # tenants come from signup or `tenant_create`, never a bare row

    def has_delete_permission(self, request, obj=None):
        return False  # dropping a schema is `tenant_delete`, with its confirmation

    @admin.action(description=_("Suspend selected tenants"))
    def suspend(self, request, queryset):
        count = queryset.update(is_active=False)
        self.message_user(
            request,
            ngettext("%(count)d tenant suspended.", "%(count)d tenants suspended.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Reactivate selected tenants"))
    def reactivate(self, request, queryset):
        count = queryset.update(is_active=True)
        self.message_user(
            request,
            ngettext("%(count)d tenant reactivated.", "%(count)d tenants reactivated.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(PoolSchema)
class PoolSchemaAdmin(admin.ModelAdmin):
    list_display = ["schema_name", "fresh", "created_at"]
    readonly_fields = ["schema_name", "fingerprint", "created_at"]
    actions = ["refresh_pool"]

    def changelist_view(self, request, extra_context=None):
        status = provisioning.pool_status()
        extra_context = {
            **(extra_context or {}),
            "title": _("Warm pool: %(ready)d ready, %(stale)d stale, target %(target)d") % status,
        }
        return super().changelist_view(request, extra_context)

    @admin.display(boolean=True, description=_("fresh"))
    def fresh(self, obj):
        return obj.fingerprint == provisioning.current_fingerprint()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Refresh the pool (drop stale, fill to target)"))
    def refresh_pool(self, request, queryset):
        result = provisioning.pool_refresh()
        self.message_user(
            request, _("Dropped %(dropped)d stale, cloned %(made)d.") % result, messages.SUCCESS
        )
