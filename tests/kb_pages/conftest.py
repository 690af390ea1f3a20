from __future__ import annotations

import pytest
from wagtail.models import Page

from accounts.models import User
from kb_pages.models import ArticlePage, KBCategoryPage, KBIndexPage, PortalHomePage
from tenants.context import tenant_schema


@pytest.fixture
def in_alpha(alpha):
    with tenant_schema(alpha.schema_name):
        yield alpha


@pytest.fixture
def people(in_alpha) -> dict[str, User]:
    return {role: User.objects.get(pk=pk) for role, pk in in_alpha.users.items()}


def signed_in(tenant, role: str):
    client = tenant.client()
    client.cookies["sessionid"] = tenant.sessions[role]
    return client


def home_in(language_code: str) -> PortalHomePage:
    return PortalHomePage.objects.get(locale__language_code=language_code)


def english_home() -> PortalHomePage:
    return home_in("en")


def add_page(parent: Page, page: Page) -> Page:
    """Publish ``page`` under ``parent`` the way an editor does: a revision, then publish."""
    parent.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def views_of(article) -> int:
    """The article's view counter (0 before its first view)."""
    from kb_pages.models import ArticleStats

    stats = ArticleStats.objects.filter(article=article).first()
    return stats.views if stats else 0


def body(*blocks: tuple[str, object]) -> list[dict]:
    return [{"type": kind, "value": value} for kind, value in blocks]


def build_kb(home: PortalHomePage, *, prefix: str = "") -> dict[str, Page]:
    """A small knowledge base under ``home``'s index: one category, a public and an
    internal article."""
    index = KBIndexPage.objects.child_of(home).get()  # every home comes with one
    category = add_page(
        index, KBCategoryPage(title=f"{prefix}Accounts", slug="accounts", icon="🔑")
    )
    public = add_page(
        category,
        ArticlePage(
            title=f"{prefix}Reset your password",
            slug="reset-password",
            summary="Get back into your account.",
            body=body(
                ("text", "<p>Open the sign-in page and choose <b>Forgot password</b>.</p>"),
                ("code", {"language": "bash", "code": "curl -X POST /password/reset"}),
                (
                    "callout",
                    {"tone": "warning", "title": "Careful", "text": "<p>Links expire.</p>"},
                ),
                (
                    "steps",
                    {
                        "title": "Steps",
                        "steps": [
                            {"title": "Open the sign-in page", "text": ""},
                            {"title": "Follow the emailed link", "text": "<p>Within an hour.</p>"},
                        ],
                    },
                ),
            ),
        ),
    )
    internal = add_page(
        category,
        ArticlePage(
            title=f"{prefix}Unlock a locked account",
            slug="unlock-account",
            summary="Agents only: unlocking in the identity console.",
            internal_only=True,
            body=body(("text", "<p>Use the identity console to unlock.</p>")),
        ),
    )
    return {"index": index, "category": category, "article": public, "internal": internal}


@pytest.fixture
def kb(in_alpha) -> dict[str, Page]:
    return build_kb(english_home())
