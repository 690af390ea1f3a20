"""Every customer account has a profile (helpdesk.signals makes one for new accounts):
the ones made before that get theirs here, with no organisation (an admin, or a
confirmed address at an organisation's domain, gives them one)."""

from django.db import migrations


def profiles_make(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    CustomerProfile = apps.get_model("helpdesk", "CustomerProfile")
    missing = User.objects.filter(
        role="customer", is_staff=False, customer_profile__isnull=True
    ).values_list("pk", flat=True)
    CustomerProfile.objects.bulk_create(
        [CustomerProfile(user_id=pk) for pk in missing.iterator(chunk_size=5000)],
        batch_size=5000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0008_ticket_language"),
        ("accounts", "0003_staff_name_index"),
    ]

    operations = [migrations.RunPython(profiles_make, migrations.RunPython.noop)]
