"""Every schema's portal speaks English, Persian and Arabic from the start.

Creates the fa and ar Locales, the Persian and Arabic translations of the portal home
(siblings of the English home under the root, same translation key), and an empty
knowledge base index under each home, translated likewise. Runs in the template schema,
so every tenant cloned from it has the three trees; ``site_bind_to_tenant`` then puts
the tenant's name on the three homes.
"""

import uuid

from django.db import migrations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # treebeard's, as Wagtail configures it
STEPLEN = 4
TITLES = {
    "en": {"home": "Help Center", "kb": "Knowledge base"},
    "fa": {"home": "مرکز راهنمایی", "kb": "پایگاه دانش"},
    "ar": {"home": "مركز المساعدة", "kb": "قاعدة المعرفة"},
}


def _next_child_path(Page, parent):
    last = (
        Page.objects.filter(path__startswith=parent.path, depth=parent.depth + 1)
        .order_by("-path")
        .values_list("path", flat=True)
        .first()
    )
    number = int(last[-STEPLEN:], 36) + 1 if last else 1
    step = ""
    for _ in range(STEPLEN):
        number, digit = divmod(number, len(ALPHABET))
        step = ALPHABET[digit] + step
    return parent.path + step


def _add_child(Page, model, parent, content_type, **fields):
    page = model.objects.create(
        content_type=content_type,
        path=_next_child_path(Page, parent),
        depth=parent.depth + 1,
        numchild=0,
        url_path=parent.url_path + fields["slug"] + "/",
        live=True,
        draft_title=fields["title"],
        **fields,
    )
    Page.objects.filter(pk=parent.pk).update(
        numchild=Page.objects.filter(
            path__startswith=parent.path, depth=parent.depth + 1
        ).count()
    )
    parent.refresh_from_db()
    return page


def create_translated_trees(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Locale = apps.get_model("wagtailcore.Locale")
    Page = apps.get_model("wagtailcore.Page")
    PortalHomePage = apps.get_model("kb_pages.PortalHomePage")
    KBIndexPage = apps.get_model("kb_pages.KBIndexPage")

    locales = {
        code: Locale.objects.get_or_create(language_code=code)[0] for code in ("en", "fa", "ar")
    }
    home_type, _ = ContentType.objects.get_or_create(app_label="kb_pages", model="portalhomepage")
    index_type, _ = ContentType.objects.get_or_create(app_label="kb_pages", model="kbindexpage")
    root = Page.objects.get(depth=1)
    english_home = PortalHomePage.objects.filter(depth=2).order_by("path").first()
    if english_home is None:  # kb_pages.0002 makes it; nothing to translate without it
        return
    if english_home.locale_id != locales["en"].pk:
        Page.objects.filter(pk=english_home.pk).update(locale=locales["en"])

    homes = {"en": english_home}
    for code in ("fa", "ar"):
        existing = PortalHomePage.objects.filter(
            translation_key=english_home.translation_key, locale=locales[code]
        ).first()
        homes[code] = existing or _add_child(
            Page,
            PortalHomePage,
            root,
            home_type,
            # An existing tenant's home already carries its name; keep it in every language.
            title=(
                english_home.title
                if english_home.title != TITLES["en"]["home"]
                else TITLES[code]["home"]
            ),
            slug=f"home-{code}",
            locale=locales[code],
            translation_key=english_home.translation_key,
            intro="",
        )

    index_key = uuid.uuid4()
    for code, home in homes.items():
        if KBIndexPage.objects.filter(path__startswith=home.path, depth=home.depth + 1).exists():
            continue
        _add_child(
            Page,
            KBIndexPage,
            home,
            index_type,
            title=TITLES[code]["kb"],
            slug="kb",
            locale=locales[code],
            translation_key=index_key,
            intro="",
        )


def remove_translated_trees(apps, schema_editor):
    Page = apps.get_model("wagtailcore.Page")
    Page.objects.filter(content_type__app_label="kb_pages", content_type__model="kbindexpage").delete()
    Page.objects.filter(
        content_type__app_label="kb_pages", content_type__model="portalhomepage", depth=2
    ).exclude(locale__language_code="en").delete()
    for page in Page.objects.filter(depth__lte=2):
        Page.objects.filter(pk=page.pk).update(
            numchild=Page.objects.filter(path__startswith=page.path, depth=page.depth + 1).count()
        )


class Migration(migrations.Migration):
    dependencies = [
        ("kb_pages", "0003_kb_page_types"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(create_translated_trees, remove_translated_trees)]
