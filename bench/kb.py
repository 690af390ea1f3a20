"""The knowledge base on 10,000 articles: article pages, search and suggestions vs. goals.

Run from the repository root after bench/kb_data.py filled the tenant (see
bench/README.md)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench \\
        .venv/bin/python bench/kb.py [--samples 50] [--explain]

Every page is requested through Django's test ``Client`` on the bench tenant's host, as
a visitor reading in the case's language (language cookie) or as a signed-in agent, so
the time is the whole request: tenant middleware, Wagtail's routing, the page's queries,
the view count it records and the template. The selector behind the page is timed alone
as well. Each case runs ``--samples`` times after one untimed warm-up request; a second
untimed request counts its SQL queries and finds the slowest one.

Goals (server time, warm cache): article page p95 <= 30 ms, KB search page and typing
suggestions p95 <= 50 ms. The product has no page or fragment cache for articles, so
"warm" is what it does cache: Wagtail's site root paths and renditions, the brand
settings (all in the default cache, keyed per schema), compiled templates, PostgreSQL's
buffers. Articles are measured on their first view in this process and on repeat views.

The suggestion endpoint (``/kb/suggest/``, the new-ticket form's "as you type") is
measured when the tenant's URLconf has it (``kb_suggest``); otherwise the report says
"not measured".
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import random
import re
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.helpdesk import explain, percentile_nearest_rank, stats_line, timed_ms  # noqa: E402
from bench.helpdesk_data import RARE_WORDS, progress  # noqa: E402
from bench.kb_data import LANGUAGES, OWNER_EMAIL, SEARCH_WORDS, SLUG  # noqa: E402

GOAL_ARTICLE_P95_MS = 30.0
GOAL_SEARCH_P95_MS = 50.0
GOAL_SUGGEST_P95_MS = 50.0
SEARCH_LIMIT = 30  # what the search page asks articles_search for (kb_pages.views)
SUGGEST_LIMIT = 5
REPEAT_ARTICLES = 10  # repeat views rotate over this many articles

# Queries per language: (label, query or list of queries the samples rotate over).
SEARCHES = {
    "en": [
        (f"common word «{SEARCH_WORDS['en_common']}»", SEARCH_WORDS["en_common"]),
        ("topic word «password»", "password"),
        ("two words «change password»", "change password"),
        ("rare word (rotating, 5 articles each)", RARE_WORDS["en"]),
        ("no article has all words «password kaleidoscope»", "password kaleidoscope"),
    ],
    "fa": [
        (f"common word «{SEARCH_WORDS['fa_common']}»", SEARCH_WORDS["fa_common"]),
        ("two words «رمز عبور»", "رمز عبور"),
        ("Persian in Arabic letters «پيامك»", "پيامك"),
        ("Arabic letters, two words «كارت بانكي»", "كارت بانكي"),
        ("rare word (rotating, 5 articles each)", RARE_WORDS["fa"]),
    ],
    "ar": [
        (f"common word «{SEARCH_WORDS['ar_common']}»", SEARCH_WORDS["ar_common"]),
        ("two words «كلمة المرور»", "كلمة المرور"),
        ("rare word (rotating, 5 articles each)", RARE_WORDS["ar"]),
    ],
}
# What a box sends while someone types (a debounced request every few letters).
TYPING = {
    "en": ["pa", "pas", "passw", "password", "password re", "password reset"],
    "fa": ["رم", "رمز", "رمز ع", "رمز عبو", "رمز عبور", "پيا", "پيامك"],
    "ar": ["كل", "كلم", "كلمة", "كلمة ال", "كلمة المرو", "كلمة المرور"],
}
# A whole ticket subject typed into the new-ticket form.
SUBJECTS = {
    "en": "my password reset link does not work",
    "fa": "لینک بازیابی رمز عبور من کار نمی‌کند",
    "ar": "رابط استعادة كلمة المرور لا يعمل",
}


@dataclass
class Case:
    group: str  # article / search / typing / suggest
    name: str
    request_ms: list[float] = field(default_factory=list)
    selector_ms: list[float] = field(default_factory=list)
    queries: int = 0
    slowest_sql: str = ""
    slowest_sql_ms: float = 0.0
    sqls: list[str] = field(default_factory=list)  # of the request that counted them
    note: str = ""
    error: str = ""

    @property
    def goal_ms(self) -> float:
        return {
            "article": GOAL_ARTICLE_P95_MS,
            "search": GOAL_SEARCH_P95_MS,
            "typing": GOAL_SEARCH_P95_MS,
            "suggest": GOAL_SUGGEST_P95_MS,
        }.get(self.group, 0.0)

    @property
    def p95(self) -> float:
        return percentile_nearest_rank(self.request_ms, 0.95) if self.request_ms else math.inf

    @property
    def passed(self) -> bool:
        return not self.goal_ms or (not self.error and self.p95 <= self.goal_ms)


@dataclass
class Sample:
    """One timed request: who (language, agent or not) asks for which URL, and the
    selector call behind it."""

    visitor: tuple[str, bool]  # (language, agent)
    url: str
    selector: Callable[[], object]
    expect: str = ""  # text the response must contain (checked on untimed requests)


# --- setup ----------------------------------------------------------------------------


@dataclass
class Bench:
    schema: str
    host: str
    agent: object
    locales: dict[str, int]
    suggest_url: str | None
    articles: int
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    clients: dict[tuple[str, bool], object] = field(default_factory=dict)

    def client_for(self, visitor: tuple[str, bool]):
        """A test client on the tenant's host reading in ``visitor``'s language, signed in
        as the agent when asked (one client per visitor kind, cookies kept)."""
        from django.conf import settings
        from django.test import Client

        from tenants.context import tenant_schema

        if visitor not in self.clients:
            lang, agent = visitor
            client = Client(HTTP_HOST=self.host)
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
            if agent:
                with tenant_schema(self.schema):
                    client.force_login(self.agent)
            self.clients[visitor] = client
        return self.clients[visitor]


def suggest_url_find(schema: str) -> str | None:
    """/kb/suggest/ when the product has it (another engineer may be adding it)."""
    from django.urls import NoReverseMatch, reverse

    from tenants.context import tenant_schema

    with tenant_schema(schema):
        try:
            return reverse("kb_suggest")
        except NoReverseMatch:
            return None


def bench_load() -> Bench:
    from wagtail.models import Locale

    from accounts.models import User
    from kb_pages.models import ArticlePage
    from tenants.context import public_schema, tenant_schema
    from tenants.models import Tenant
    from tenants.provisioning import primary_domain_for

    with public_schema():
        tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        raise SystemExit(f"no tenant {SLUG!r}: run bench/kb_data.py first")
    with tenant_schema(tenant.schema_name):
        count = ArticlePage.objects.count()
        if count < 1000:
            raise SystemExit(f"{SLUG} holds {count} articles: run bench/kb_data.py first")
        agent = User.objects.get(email=OWNER_EMAIL)
        if not agent.is_agent:
            raise SystemExit(f"{OWNER_EMAIL} is not an agent in {SLUG}")
        locales = dict(Locale.objects.values_list("language_code", "pk"))
    progress(f"tenant {SLUG}: {count:,} articles")
    return Bench(
        schema=tenant.schema_name,
        host=primary_domain_for(tenant.slug),
        agent=agent,
        locales=locales,
        suggest_url=suggest_url_find(tenant.schema_name),
        articles=count,
    )


def random_articles(bench: Bench, lang: str, n: int, *, internal: bool | None = False) -> list:
    """``n`` distinct live articles of ``lang`` picked at random (public ones only unless
    ``internal`` is None: any; True: internal-only ones)."""
    from kb_pages.models import ArticlePage
    from tenants.context import tenant_schema

    with tenant_schema(bench.schema):
        articles = ArticlePage.objects.live().filter(locale_id=bench.locales[lang])
        if internal is not None:
            articles = articles.filter(internal_only=internal)
        ids = list(articles.values_list("pk", flat=True))
        picked = bench.rng.sample(ids, min(n, len(ids)))
        pages = ArticlePage.objects.in_bulk(picked)
        return [(pages[pk], pages[pk].get_url()) for pk in picked]


# --- measuring ------------------------------------------------------------------------


def case_run(bench: Bench, case: Case, samples: list[Sample], warmup: Sample | None = None) -> Case:
    """Warm up, count queries once, then time each sample's request and selector.

    ``warmup`` (default: the first sample) is the untimed request, so a case of first
    views can keep its timed articles unseen. A case whose page fails is reported.
    """
    try:
        _case_measure(bench, case, samples, warmup or samples[0])
    except Exception as error:  # one broken page must not lose the run
        case.error = f"{type(error).__name__}: {str(error)[:200]}"
        progress(f"    ERROR {case.error}")
    else:
        progress(
            f"    request p50 {statistics.median(case.request_ms):.1f} ms, "
            f"p95 {case.p95:.1f} ms; selector p50 {statistics.median(case.selector_ms):.1f} ms"
        )
    return case


def _get(client, sample: Sample):
    response = client.get(sample.url)
    if response.status_code != 200:
        raise RuntimeError(f"{sample.url} answered {response.status_code}")
    return response


def _case_measure(bench: Bench, case: Case, samples: list[Sample], warmup: Sample) -> None:
    import html

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tenants.context import tenant_schema

    client = bench.client_for(warmup.visitor)
    response = _get(client, warmup)
    if warmup.expect and html.escape(warmup.expect) not in response.content.decode():
        raise RuntimeError(f"{warmup.url} does not show {warmup.expect!r}")
    with CaptureQueriesContext(connection) as captured:
        _get(client, warmup)
    case.queries = len(captured.captured_queries)
    case.sqls = [q["sql"] for q in captured.captured_queries]
    slowest = max(captured.captured_queries, key=lambda q: float(q["time"]), default=None)
    if slowest:
        case.slowest_sql, case.slowest_sql_ms = slowest["sql"], float(slowest["time"]) * 1000
    for sample in samples:
        client = bench.client_for(sample.visitor)
        response, elapsed = timed_ms(lambda c=client, s=sample: c.get(s.url))
        if response.status_code != 200:
            raise RuntimeError(f"{sample.url} answered {response.status_code}")
        case.request_ms.append(elapsed)
        with tenant_schema(bench.schema):
            _, elapsed = timed_ms(sample.selector)
        case.selector_ms.append(elapsed)


def _user(bench: Bench, agent: bool):
    from django.contrib.auth.models import AnonymousUser

    return bench.agent if agent else AnonymousUser()


def related_selector(bench: Bench, article, agent: bool) -> Callable[[], object]:
    from kb_pages import selectors

    user = _user(bench, agent)
    return lambda: selectors.articles_related(article=article, user=user)


def search_selector(bench: Bench, lang: str, query: str, limit: int) -> Callable[[], object]:
    from kb_pages import selectors

    user = _user(bench, False)
    return lambda: selectors.articles_search(query=query, locale=lang, user=user, limit=limit)


def suggest_selector(bench: Bench, lang: str, query: str) -> Callable[[], object]:
    from kb_pages import selectors

    user = _user(bench, False)
    suggest = getattr(selectors, "articles_suggest", None)
    if suggest is None:
        return search_selector(bench, lang, query, SUGGEST_LIMIT)
    return lambda: suggest(query=query, language=lang, user=user)


def article_cases(bench: Bench, n: int) -> list[Case]:
    cases = []
    for lang in LANGUAGES:
        picked = random_articles(bench, lang, n + 1)
        first = [
            Sample((lang, False), url, related_selector(bench, page, False), expect=page.title)
            for page, url in picked
        ]
        progress(f"  article ({lang}): first view of {n} random public articles")
        case = Case("article", f"{lang}: first view, random public articles")
        cases.append(case_run(bench, case, first[1:], warmup=first[0]))

        repeat = first[1 : 1 + REPEAT_ARTICLES]
        for sample in repeat:  # seen once already in this process: warm
            bench.client_for(sample.visitor).get(sample.url)
        progress(f"  article ({lang}): repeat views of {len(repeat)} articles")
        samples = list(itertools.islice(itertools.cycle(repeat), n))
        cases.append(case_run(bench, Case("article", f"{lang}: repeat view (warm)"), samples))

    picked = random_articles(bench, "fa", n // 2, internal=None) + random_articles(
        bench, "fa", n - n // 2, internal=True
    )
    samples = [
        Sample(("fa", True), url, related_selector(bench, page, True), expect=page.title)
        for page, url in picked
    ]
    progress("  article (fa): signed-in agent, random articles, half internal-only")
    case = Case("article", "fa: agent, random articles (half internal)")
    cases.append(case_run(bench, case, samples))
    return cases


def _rotate(queries, n: int) -> list[str]:
    return list(
        itertools.islice(itertools.cycle([queries] if isinstance(queries, str) else queries), n)
    )


def search_cases(bench: Bench, n: int) -> list[Case]:
    from kb_pages.models import KBIndexPage
    from tenants.context import tenant_schema

    with tenant_schema(bench.schema):
        search_url = KBIndexPage.objects.filter(locale_id=bench.locales["en"]).get().search_url()
    cases = []
    for group, specs in (("search", SEARCHES), ("typing", TYPING)):
        for lang in LANGUAGES:
            rows = specs[lang] if group == "search" else [("typing, prefixes in turn", specs[lang])]
            for label, queries in rows:
                samples = [
                    Sample(
                        (lang, False),
                        f"{search_url}?{urlencode({'q': q})}",
                        search_selector(bench, lang, q, SEARCH_LIMIT),
                    )
                    for q in _rotate(queries, n)
                ]
                name = f"{lang}: {label}"
                progress(f"  {group}: {name}")
                case = case_run(bench, Case(group, name), samples)
                case.note = matches_note(bench, lang, queries)
                progress(f"    {case.note}")
                cases.append(case)
    return cases


def suggest_cases(bench: Bench, n: int) -> list[Case]:
    if bench.suggest_url is None:
        return [
            Case("suggest", "/kb/suggest/", error="not measured: the URL kb_suggest does not exist")
        ]
    cases = []
    for lang in LANGUAGES:
        for label, queries in (
            ("typing, prefixes in turn", TYPING[lang]),
            ("a whole ticket subject", SUBJECTS[lang]),
        ):
            samples = [
                Sample(
                    (lang, False),
                    f"{bench.suggest_url}?{urlencode({'q': q, 'lang': lang})}",
                    suggest_selector(bench, lang, q),
                )
                for q in _rotate(queries, n)
            ]
            name = f"{lang}: {label}"
            progress(f"  suggest: {name}")
            case = case_run(bench, Case("suggest", name), samples)
            case.note = matches_note(bench, lang, queries)
            progress(f"    {case.note}")
            cases.append(case)
    return cases


def matches_note(bench: Bench, lang: str, queries) -> str:
    """How many public articles of ``lang`` each query matches, all words (and any word
    when none has all, as articles_search then falls back to), outside the timing."""
    from django.contrib.auth.models import AnonymousUser

    from kb_pages import selectors
    from kb_pages.text import query_terms
    from tenants.context import tenant_schema

    parts = []
    with tenant_schema(bench.schema):
        articles = selectors.articles_visible_to(user=AnonymousUser()).filter(
            locale_id=bench.locales[lang]
        )
        total = articles.count()
        for query in [queries] if isinstance(queries, str) else queries:
            terms = query_terms(query)
            text = " ".join(terms)
            hits = articles.order_by().search(text, operator="and").count() if terms else 0
            part = f"{query}: {hits:,}"
            if not hits and len(terms) > 1:
                any_hits = articles.order_by().search(text, operator="or").count()
                part += f" (any word {any_hits:,})"
            parts.append(part)
    if len(parts) > len(max(TYPING.values(), key=len)):  # many rare words: the range
        counts = [int(re.search(r": ([\d,]+)", p).group(1).replace(",", "")) for p in parts]
        return f"matches {min(counts)}-{max(counts)} of {total:,} public {lang} articles per word"
    return f"matches of {total:,} public {lang} articles: " + "; ".join(parts)


# --- report ---------------------------------------------------------------------------

TITLES = {
    "article": f"article page (goal p95 <= {GOAL_ARTICLE_P95_MS:.0f} ms)",
    "search": f"KB search page /kb/search/?q= (goal p95 <= {GOAL_SEARCH_P95_MS:.0f} ms)",
    "typing": f"search page as typed, prefixes (goal p95 <= {GOAL_SEARCH_P95_MS:.0f} ms)",
    "suggest": f"suggestions /kb/suggest/?q=&lang= (goal p95 <= {GOAL_SUGGEST_P95_MS:.0f} ms)",
}


def report_print(*, cases: list[Case], bench: Bench, explains: bool) -> None:
    print(f"{'case':<52} {'what':<9} {'n':>4} {'p50':>8} {'p95':>8} {'max':>8}   (ms)  goal")
    group = None
    for case in cases:
        if case.group != group:
            group = case.group
            print(f"-- {TITLES[group]}")
        if case.error:
            verdict = "" if case.error.startswith("not measured") else "   FAIL"
            print(f"{case.name:<52} {case.error}{verdict}")
            continue
        verdict = "PASS" if case.passed else "FAIL"
        print(f"{case.name:<52} {'request':<9} {stats_line(case.request_ms)}   {verdict}")
        print(f"{'':<52} {'selector':<9} {stats_line(case.selector_ms)}")
        print(f"{'':<52} {case.queries} queries; slowest {case.slowest_sql_ms:.1f} ms")
        if case.note:
            print(f"{'':<52} {case.note}")
    print()
    measured = [c for c in cases if c.goal_ms and not c.error.startswith("not measured")]
    by_group = {}
    for case in measured:
        by_group.setdefault(case.group, []).append(case.passed)
    print(
        "goals: "
        + "; ".join(f"{g} {sum(v)}/{len(v)} pass" for g, v in by_group.items())
        + ("" if bench.suggest_url else "; suggestions not measured")
    )
    if explains:
        explains_print(cases=cases, bench=bench)


EXPLAIN_LIMIT = 4
EXPLAIN_MIN_MS = 10.0  # a failing case whose queries are all faster is slow elsewhere
# The search query's shape on Wagtail's database backend: the two vectors concatenated.
CONCATENATED_VECTORS = '("wagtailsearch_indexentry"."title" || "wagtailsearch_indexentry"."body")'
TRY_INDEX = (
    "CREATE INDEX bench_kb_title_body ON wagtailsearch_indexentry USING gin ((title || body))"
)


def explains_print(*, cases: list[Case], bench: Bench) -> None:
    """Where the time of failing cases goes: the SQL of one article request (many small
    queries), then EXPLAIN (ANALYZE, BUFFERS) of the slowest SELECT of the failing cases,
    slowest first, one per group and query shape (the SQL without its literals), and of
    the fastest failing search (a rare word: what any search costs at least). A search
    query is explained again with an expression index on the concatenated vectors it
    filters on, made and rolled back in one transaction."""
    article = next((c for c in cases if c.group == "article" and c.sqls and not c.passed), None)
    if article is not None:
        print()
        print(f"== the {article.queries} queries of one request of: article: {article.name}")
        for sql in article.sqls:
            print("  " + re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", sql)[:150])
    failing = sorted(
        (
            c
            for c in cases
            if c.slowest_sql.startswith("SELECT")
            and c.slowest_sql_ms >= EXPLAIN_MIN_MS
            and not c.passed
        ),
        key=lambda c: -c.slowest_sql_ms,
    )
    chosen, shapes = [], set()
    for case in failing:
        shape = (case.group, re.sub(r"'(?:[^']|'')*'|\b\d+\b", "?", case.slowest_sql))
        if shape not in shapes and len(chosen) < EXPLAIN_LIMIT:
            shapes.add(shape)
            chosen.append(case)
    searches = [c for c in failing if c.group == "search"]
    if searches and searches[-1] not in chosen:
        chosen.append(searches[-1])
    for case in chosen:
        print()
        print(f"== EXPLAIN (ANALYZE, BUFFERS), slowest query of: {case.group}: {case.name}")
        print(case.slowest_sql)
        print(explain(bench, case.slowest_sql))
        if CONCATENATED_VECTORS in case.slowest_sql:
            print()
            print(f"== the same with: {TRY_INDEX} (rolled back)")
            print(explain_with_index(bench, case.slowest_sql))


def explain_with_index(bench: Bench, sql: str) -> str:
    from django.db import connection, transaction

    from tenants.context import tenant_schema

    class Rollback(Exception):
        pass

    plan = ""
    try:
        with tenant_schema(bench.schema), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(TRY_INDEX)
            cursor.execute("ANALYZE wagtailsearch_indexentry")
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            raise Rollback
    except Rollback:
        pass
    return plan


# --- main -----------------------------------------------------------------------------


def arguments_parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=50, help="timed requests per case")
    parser.add_argument(
        "--only", choices=("article", "search", "suggest"), action="append",
        help="run only these groups (repeatable; search includes the typing cases)",
    )  # fmt: skip
    parser.add_argument("--no-migrate", action="store_true", help="skip migrate_schemas")
    parser.add_argument(
        "--explain", action="store_true",
        help="EXPLAIN (ANALYZE, BUFFERS) the slowest query of each failing case",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.samples < 2:
        parser.error("--samples must be at least 2")
    return args


def main(argv: list[str] | None = None) -> None:
    args = arguments_parse(argv)
    from bench.provisioning import database_ensure, django_configure, platform_migrate

    django_configure()
    database_ensure()
    import django

    django.setup()
    from django.conf import settings

    # Time what production runs: no query log, no template debug info.
    settings.DEBUG = False
    if not args.no_migrate:
        progress("migrating the platform (public, template, pool, tenants)...")
        platform_migrate()
    groups = set(args.only or ("article", "search", "suggest"))
    bench = bench_load()
    load_before = os.getloadavg()
    cases: list[Case] = []
    if "article" in groups:
        cases += article_cases(bench, args.samples)
    if "search" in groups:
        cases += search_cases(bench, args.samples)
    if "suggest" in groups:
        cases += suggest_cases(bench, args.samples)
    load_after = os.getloadavg()
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    db = settings.DATABASES["default"]
    pool = db.get("OPTIONS", {}).get("pool")
    connections = (
        f"pool of {pool['max_size']}" if pool else f"CONN_MAX_AGE={db.get('CONN_MAX_AGE')}, no pool"
    )
    print(
        f"tenant {SLUG}: {bench.articles:,} articles; cache {cache}; connections {connections}; "
        f"load average {load_before[0]:.2f} at start, {load_after[0]:.2f} at end "
        f"({os.cpu_count()} cores)"
    )
    report_print(cases=cases, bench=bench, explains=args.explain)


if __name__ == "__main__":
    main()
