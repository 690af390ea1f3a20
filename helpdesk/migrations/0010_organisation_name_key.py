"""Organisations get their folded name (the desk's organisation filter finds it whichever
keyboard typed it), and lose the domains that never said who a customer works for:
webmail and throwaway-address services and public suffixes saved before the admin
refused them (they joined strangers to the organisation)."""

from django.db import migrations, models


def organisations_clean(apps, schema_editor):
    from helpdesk.email_domains import clean_domain, is_shared
    from helpdesk.text import name_key

    Organisation = apps.get_model("helpdesk", "Organisation")
    for organisation in Organisation.objects.all().iterator(chunk_size=2000):
        domains = []
        for value in organisation.email_domains or []:
            domain = clean_domain(value)
            if domain and not is_shared(domain) and domain not in domains:
                domains.append(domain)
        organisation.name_key = name_key(organisation.name)
        organisation.email_domains = domains
        organisation.save(update_fields=["name_key", "email_domains"])


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0009_customer_profiles_for_everyone"),
    ]

    operations = [
        migrations.AddField(
            model_name="organisation",
            name="name_key",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(organisations_clean, migrations.RunPython.noop),
    ]
