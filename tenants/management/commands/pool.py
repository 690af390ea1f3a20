from django.core.management.base import BaseCommand

from tenants import provisioning


class Command(BaseCommand):
    help = "Inspect or change the warm pool of pre-cloned tenant schemas."

    def add_arguments(self, parser):
        parser.add_argument(
            "action", choices=["status", "fill", "refresh", "drain"], nargs="?", default="status"
        )
        parser.add_argument("--size", type=int, default=None, help="Target size for fill.")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "fill":
            made = provisioning.pool_fill(size=options["size"])
            self.stdout.write(f"Cloned {made} schema(s).")
        elif action == "refresh":
            result = provisioning.pool_refresh()
            self.stdout.write(f"Dropped {result['dropped']} stale, cloned {result['made']}.")
        elif action == "drain":
            dropped = provisioning.pool_drain()
            self.stdout.write(f"Dropped {dropped} pooled schema(s).")
        status = provisioning.pool_status()
        self.stdout.write(
            f"pool: {status['ready']} ready, {status['stale']} stale, target {status['target']}"
        )
