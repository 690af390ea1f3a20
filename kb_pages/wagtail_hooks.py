"""The knowledge base in each tenant's Wagtail admin, under Reports: the article report
(most viewed, least helpful) and the deflection rate per month."""

from __future__ import annotations

from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.reports import ReportView
from wagtail.permission_policies.pages import PagePermissionPolicy

from kb_pages import selectors

REPORT_PERMISSIONS = ["add", "change", "publish"]


def _share(article) -> str:
    if article.helpful_share is None:
        return "—"
    return f"{round(article.helpful_share * 100)}%"


class ArticleReportView(ReportView):
    page_title = _("Knowledge base articles")
    header_icon = "doc-full"
    index_url_name = "kb_article_report"
    index_results_url_name = "kb_article_report_results"
    permission_policy = PagePermissionPolicy()
    any_permission_required = REPORT_PERMISSIONS
    default_ordering = "-view_count"
    columns = [
        TitleColumn(
            "title",
            label=_("Article"),
            sort_key="title",
            get_url=lambda article: reverse("wagtailadmin_pages:edit", args=[article.pk]),
        ),
        Column("language", label=_("Language"), accessor="locale.language_code"),
        Column("view_count", label=_("Views"), sort_key="view_count"),
        Column("helpful_yes", label=_("Helpful"), sort_key="helpful_yes"),
        Column("helpful_no", label=_("Not helpful"), sort_key="helpful_no"),
        Column(
            "helpful_share", label=_("Helpful share"), sort_key="helpful_share", accessor=_share
        ),
    ]
    list_export = ["title", "locale.language_code", "view_count", "helpful_yes", "helpful_no"]
    export_headings = {
        "title": _("Article"),
        "locale.language_code": _("Language"),
        "view_count": _("Views"),
        "helpful_yes": _("Helpful"),
        "helpful_no": _("Not helpful"),
    }

    def get_base_queryset(self):
        return selectors.article_report()


class ArticleReportMenuItem(MenuItem):
    def is_shown(self, request):
        return PagePermissionPolicy().user_has_any_permission(request.user, REPORT_PERMISSIONS)


@hooks.register("register_admin_urls")
def register_kb_report_urls():
    return [
        path("reports/kb-articles/", ArticleReportView.as_view(), name="kb_article_report"),
        path(
            "reports/kb-articles/results/",
            ArticleReportView.as_view(results_only=True),
            name="kb_article_report_results",
        ),
    ]


@hooks.register("register_reports_menu_item")
def register_kb_report_menu_item():
    return ArticleReportMenuItem(
        _("Knowledge base articles"),
        reverse("kb_article_report"),
        name="kb-articles",
        icon_name="doc-full",
        order=650,
    )


def _month(row: selectors.DeflectionMonth) -> str:
    return date_format(row.month, "YEAR_MONTH_FORMAT")


def _count(value: int | None) -> str:
    return "—" if value is None else str(value)


def _rate(row: selectors.DeflectionMonth) -> str:
    return "—" if row.rate is None else f"{round(row.rate * 100)}%"


class DeflectionReportView(ReportView):
    """Per month: forms ended by "This answered my question", tickets opened on the
    portal, and the share of the two that the knowledge base answered."""

    page_title = _("Ticket deflection")
    header_icon = "help"
    index_url_name = "kb_deflection_report"
    index_results_url_name = "kb_deflection_report_results"
    permission_policy = PagePermissionPolicy()
    any_permission_required = REPORT_PERMISSIONS
    paginate_by = None
    columns = [
        Column("month", label=_("Month"), accessor=_month),
        Column("deflections", label=_("Answered by an article")),
        Column(
            "portal_tickets",
            label=_("Tickets opened on the portal"),
            accessor=lambda row: _count(row.portal_tickets),
        ),
        Column("rate", label=_("Deflection rate"), accessor=_rate),
    ]
    list_export = ["month", "deflections", "portal_tickets", "rate"]
    export_headings = {
        "month": _("Month"),
        "deflections": _("Answered by an article"),
        "portal_tickets": _("Tickets opened on the portal"),
        "rate": _("Deflection rate"),
    }

    def get_base_queryset(self):
        return selectors.deflection_rate_by_month(months=12)


@hooks.register("register_admin_urls")
def register_kb_deflection_report_urls():
    return [
        path("reports/kb-deflection/", DeflectionReportView.as_view(), name="kb_deflection_report"),
        path(
            "reports/kb-deflection/results/",
            DeflectionReportView.as_view(results_only=True),
            name="kb_deflection_report_results",
        ),
    ]


@hooks.register("register_reports_menu_item")
def register_kb_deflection_report_menu_item():
    return ArticleReportMenuItem(
        _("Ticket deflection"),
        reverse("kb_deflection_report"),
        name="kb-deflection",
        icon_name="help",
        order=651,
    )
