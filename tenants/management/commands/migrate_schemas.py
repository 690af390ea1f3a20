"""django-tenants' migrate_schemas, followed by the template and the warm pool.

A full run (no --schema) migrates public and every tenant, then migrates the template
schema and replaces pooled schemas cloned from an older template, so no tenant --
existing or about to be claimed -- is ever behind.
"""

from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand


class Command(MigrateSchemasCommand):
    def handle(self, *args, **options):
        if options.get("executor") == "multiprocessing":
            # The executor closes the connection and forks: with a pool, close() only
            # returns it to the pool, and every child would inherit the same sockets.
            from django.db import connection

            connection.close_pool()
            connection.settings_dict["OPTIONS"].pop("pool", None)
        super().handle(*args, **options)
        if options.get("schema_name") or options.get("app_label") or options.get("fake"):
            return
        if options.get("plan") or options.get("check_unapplied"):
            return
        from tenants.provisioning import platform_bootstrap, pool_refresh, template_migrate

        verbosity = options.get("verbosity", 1)
        template_migrate(verbosity=max(0, verbosity - 1))
        platform_bootstrap(verbosity=max(0, verbosity - 1))
        result = pool_refresh()
        if verbosity:
            self.stdout.write(
                f"Template migrated; pool: {result['dropped']} stale dropped, "
                f"{result['made']} cloned."
            )
