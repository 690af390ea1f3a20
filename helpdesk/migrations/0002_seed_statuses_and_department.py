"""Every tenant starts with the usual statuses and one public department."""

from django.db import migrations

STATUSES = [
    # key, agent label, customer label, stage, default for stage
    ("new", "New", "Received", "new", True),
    ("open", "Open", "In progress", "open", True),
    ("waiting-customer", "Waiting on customer", "Awaiting your reply", "pending", True),
    ("waiting-third-party", "Waiting on third party", "In progress", "pending", False),
    ("resolved", "Resolved", "Resolved", "resolved", True),
    ("closed", "Closed", "Closed", "closed", True),
]


def seed(apps, schema_editor):
    TicketStatus = apps.get_model("helpdesk", "TicketStatus")
    Department = apps.get_model("helpdesk", "Department")
    Category = apps.get_model("helpdesk", "Category")
    for position, (key, agent, customer, stage, default) in enumerate(STATUSES):
        TicketStatus.objects.get_or_create(
            key=key,
            defaults={
                "agent_label": agent,
                "customer_label": customer,
                "category": stage,
                "is_default": default,
                "position": position,
            },
        )
    if not Department.objects.exists():
        general = Department.objects.create(
            name="General support", slug="general", description="Questions of any kind."
        )
        for position, name in enumerate(["Question", "Problem", "Request"]):
            Category.objects.create(department=general, name=name, position=position)


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
