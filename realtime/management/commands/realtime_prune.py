import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone

from realtime.models import Event
from tenants.context import dangerously_iterate_all_tenants


class Command(BaseCommand):
    help = "Delete live events older than --days from every tenant's event log."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args, **options):
        cutoff = timezone.now() - dt.timedelta(days=options["days"])
        total = 0
        for schema_name in dangerously_iterate_all_tenants():
            deleted, _ = Event.objects.filter(created_at__lt=cutoff).delete()
            total += deleted
            if deleted:
                self.stdout.write(f"{schema_name}: {deleted}")
        self.stdout.write(f"Deleted {total} event(s) older than {options['days']} days.")
