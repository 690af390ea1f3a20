"""Every schema's page tree starts at a PortalHomePage served by its default Site.

Runs in the template schema (and so in every tenant cloned from it): Wagtail's own
initial migration leaves a generic "Welcome" page, which this replaces.
"""

from django.db import migrations


def create_portal_home(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    Site = apps.get_model("wagtailcore.Site")
    Locale = apps.get_model("wagtailcore.Locale")
    PortalHomePage = apps.get_model("kb_pages.PortalHomePage")

    if PortalHomePage.objects.exists():
        return
    Page.objects.filter(depth=2, slug="home", content_type__model="page").delete()
    root = Page.objects.get(depth=1)
    home_type, _ = ContentType.objects.get_or_create(model="portalhomepage", app_label="kb_pages")
    locale = Locale.objects.order_by("pk").first()
    path = root.path + "0001"
    while Page.objects.filter(path=path).exists():
        path = root.path + str(int(path[-4:]) + 1).zfill(4)
    home = PortalHomePage.objects.create(
        title="Help Center",
        draft_title="Help Center",
        slug="home",
        content_type=home_type,
        path=path,
        depth=2,
        numchild=0,
        url_path="/home/",
        locale=locale,
        live=True,
    )
    root.numchild = Page.objects.filter(depth=2).count()
    root.save(update_fields=["numchild"])
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)
    else:
        site.root_page = home
        site.save(update_fields=["root_page"])


def remove_portal_home(apps, schema_editor):
    apps.get_model("kb_pages.PortalHomePage").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("kb_pages", "0001_initial"),
        ("wagtailcore", "0002_initial_data"),
    ]

    operations = [migrations.RunPython(create_portal_home, remove_portal_home)]
