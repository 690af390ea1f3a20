"""The agent desk over HTTP: queues, filters, search, the ticket page, actions."""

import re

import pytest
from django.utils import translation

from helpdesk.models import Category, Priority, StatusCategory, Ticket, TicketStatus
from helpdesk.services import tickets as services


def _client(alpha, role):
    client = alpha.client()
    client.cookies["sessionid"] = alpha.sessions[role]
    return client


@pytest.fixture
def agent_client(alpha):
    return _client(alpha, "agent")


def _references(response) -> set[str]:
    return _references_in(response.content.decode())


def _references_in(page: str) -> set[str]:
    return set(re.findall(r'data-reference="([0-9A-Z-]+)"', page))


def test_customers_and_anonymous_people_cannot_open_the_desk(alpha):
    assert _client(alpha, "customer").get("/desk/").status_code == 403
    anonymous = alpha.client().get("/desk/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_agents_see_their_departments_managers_see_all(alpha, new_ticket, billing):
    general_ticket = new_ticket(subject="General question")
    billing_ticket = new_ticket(subject="Invoice wrong", department=billing)

    agent_view = _references(_client(alpha, "agent").get("/desk/"))
    billing_view = _references(_client(alpha, "billing_agent").get("/desk/"))
    manager_view = _references(_client(alpha, "manager").get("/desk/"))

    assert agent_view == {general_ticket.reference}
    assert billing_view == {billing_ticket.reference}
    assert manager_view == {general_ticket.reference, billing_ticket.reference}
    assert (
        _client(alpha, "agent").get(f"/desk/tickets/{billing_ticket.reference}/").status_code == 404
    )


def test_queues_mine_unassigned_and_waiting(alpha, new_ticket, people):
    mine = new_ticket(subject="Mine")
    services.ticket_assign(ticket=mine, actor=people["agent"], assignee=people["agent"])
    unassigned = new_ticket(subject="Nobody's")
    waiting = new_ticket(subject="Waiting")
    services.ticket_reply(
        ticket=waiting, author=people["agent"], body_text="Which one?",
        set_status=TicketStatus.objects.get(key="waiting-customer"),
    )  # fmt: skip
    client = _client(alpha, "agent")

    assert _references(client.get("/desk/?queue=mine")) == {mine.reference}
    assert _references(client.get("/desk/?queue=unassigned")) == {
        unassigned.reference,
        waiting.reference,
    }
    assert _references(client.get("/desk/?queue=waiting")) == {waiting.reference}


def test_filters_and_sorting(alpha, new_ticket, people):
    low = new_ticket(subject="Low", urgency=1)
    critical = new_ticket(subject="Critical", impact=3, urgency=3)
    services.ticket_update(ticket=critical, actor=people["agent"], tags=["vpn"])
    client = _client(alpha, "manager")

    by_priority = client.get(f"/desk/?queue=open&priority={Priority.CRITICAL}")
    by_tag = client.get("/desk/?queue=open&tag=VPN")
    by_requester = client.get("/desk/?queue=open&requester=customer@alpha.test")
    sorted_page = client.get("/desk/?queue=open&sort=-priority").content.decode()

    assert _references(by_priority) == {critical.reference}
    assert _references(by_tag) == {critical.reference}
    assert _references(by_requester) == {low.reference, critical.reference}
    assert sorted_page.index(critical.reference) < sorted_page.index(low.reference)


@pytest.mark.parametrize(
    "params",
    [
        "priority=abc",
        "department=-1",
        "from=not-a-date",
        "sort=DROP",
        "cursor=%%%",
        "queue=evil",
        "stage=bogus",
        "q=" + "x" * 5000,
        "assignee=99999999999999999999999",
    ],
)
def test_garbage_filters_never_break_the_queue(alpha, new_ticket, params):
    new_ticket()

    assert _client(alpha, "manager").get(f"/desk/?{params}").status_code == 200


def test_keyset_pagination_walks_every_ticket_once(alpha, new_ticket, settings, monkeypatch):
    monkeypatch.setattr("helpdesk.selectors.PAGE_SIZE", 3)
    made = {new_ticket(subject=f"T{i}").reference for i in range(8)}
    client = _client(alpha, "manager")

    seen, url = [], "/desk/?queue=open"
    while url:
        response = client.get(url)
        seen += sorted(_references(response))
        cursor = response.context["page"].next_cursor
        url = f"/desk/?queue=open&cursor={cursor}" if cursor else None

    assert sorted(seen) == sorted(made)


@pytest.mark.parametrize(
    ("document", "typed"),
    [
        ("مشکل در چاپگر طبقه دوم", "چاپگر"),
        ("مشكل في الطابعة", "مشکل"),  # Arabic kaf typed, Persian kaf searched
        ("سیستم کار نمی‌کند", "نمیکند"),  # ZWNJ in the ticket, joined in the search
        ("سیستم کار نمیکند", "نمی‌کند"),  # and the other way round
        ("فاکتور شماره ۱۲۳۴", "1234"),  # Persian digits found by Latin ones
        ("Printer jammed again", "printer jam"),  # prefix on the last word
    ],
)
def test_search_finds_persian_arabic_and_english_whichever_keyboard(
    alpha, new_ticket, document, typed
):
    hit = new_ticket(subject="Subject", body_text=document)
    new_ticket(subject="Unrelated", body_text="Nothing to see here")

    found = _references(_client(alpha, "manager").get("/desk/", {"queue": "all", "q": typed}))

    assert found == {hit.reference}


def test_search_covers_code_requester_and_later_messages(alpha, new_ticket, people):
    ticket = new_ticket(subject="Laptop")
    services.ticket_reply(ticket=ticket, author=people["customer"], body_text="keyboard sticky")
    client = _client(alpha, "manager")

    for typed in (ticket.reference, "customer@alpha.test", "sticky", "Alpha Corp Customer"):
        assert _references(client.get("/desk/", {"queue": "all", "q": typed})) == {ticket.reference}


def test_search_respects_visibility(alpha, new_ticket, billing):
    new_ticket(subject="Invoice", body_text="refund please", department=billing)

    found = _references(_client(alpha, "agent").get("/desk/", {"queue": "all", "q": "refund"}))

    assert found == set()


def test_agent_replies_writes_notes_and_changes_fields_from_the_ticket_page(
    alpha, new_ticket, people, general
):
    ticket = new_ticket()
    client = _client(alpha, "agent")
    base = f"/desk/tickets/{ticket.reference}/"

    page = client.get(base)
    note = client.post(base + "reply/", {"body": "checking logs", "internal": "on"})
    reply = client.post(
        base + "reply/", {"body": "Fixed!", "status": TicketStatus.objects.get(key="resolved").pk}
    )
    update = client.post(
        base + "update/",
        {"status": TicketStatus.objects.get(key="open").pk, "priority": 4,
         "category": general.categories.first().pk, "tags": "printer, urgent"},
    )  # fmt: skip

    assert page.status_code == 200 and "Printer on fire" in page.content.decode()
    assert note.status_code == reply.status_code == update.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.stage, ticket.priority, ticket.tags) == (
        StatusCategory.OPEN,
        4,
        ["printer", "urgent"],
    )
    kinds = [m.kind for m in ticket.messages.all()]
    assert kinds == ["public", "internal", "public"]
    page = client.get(base).content.decode()
    assert "checking logs" in page and "Internal note" in page


def test_only_the_tickets_own_categories_are_offered_and_accepted(
    alpha, new_ticket, general, billing
):
    ticket = new_ticket()
    other = Category.objects.create(department=billing, name="Refunds elsewhere")
    client = _client(alpha, "agent")
    base = f"/desk/tickets/{ticket.reference}/"

    page = client.get(base).content.decode()
    refused = client.post(
        base + "update/",
        {"status": ticket.status_id, "priority": ticket.priority, "category": other.pk},
    )

    assert "Refunds elsewhere" not in page
    assert general.categories.first().name in page
    assert refused.status_code == 400
    ticket.refresh_from_db()
    assert ticket.category_id != other.pk


def test_canned_replies_fill_in_placeholders(alpha, new_ticket, general):
    from helpdesk.models import CannedReply

    CannedReply.objects.create(
        title="Greeting", body="Hello {customer_name}, about {ticket_reference}: {agent_name} here."
    )
    ticket = new_ticket()

    page = _client(alpha, "agent").get(f"/desk/tickets/{ticket.reference}/").content.decode()

    assert f"Hello Alpha Corp Customer, about {ticket.reference}: Alpha Corp Agent here." in page


def test_assign_transfer_escalate_merge_and_bad_input(alpha, new_ticket, people, billing):
    ticket = new_ticket()
    other = new_ticket(subject="Duplicate")
    client = _client(alpha, "agent")
    base = f"/desk/tickets/{ticket.reference}/"

    client.post(base + "assign/", {"assignee": people["agent"].pk})
    client.post(base + "escalate/", {"reason": "needs L2"})
    bad_assign = client.post(base + "assign/", {"assignee": "999999"})
    bad_merge = client.post(f"/desk/tickets/{other.reference}/merge/", {"target": "NOPE-NOPE"})
    client.post(f"/desk/tickets/{other.reference}/merge/", {"target": ticket.reference})
    transfer = client.post(base + "transfer/", {"department": billing.pk, "reason": "invoice"})

    ticket.refresh_from_db()
    other.refresh_from_db()
    assert ticket.tier == 2 and ticket.department == billing
    assert other.merged_into == ticket
    assert bad_assign.status_code == bad_merge.status_code == 302
    # The agent is not in billing: after the transfer the ticket leaves their view.
    assert transfer["Location"] == "/desk/"


def test_bulk_actions_are_all_or_nothing(alpha, new_ticket, people):
    tickets = [new_ticket(subject=f"Bulk {i}") for i in range(3)]
    client = _client(alpha, "agent")
    refs = [t.reference for t in tickets]

    client.post(
        "/desk/bulk/", {"action": "assign", "assignee": people["agent"].pk, "tickets": refs}
    )
    client.post("/desk/bulk/", {"action": "priority", "priority": 4, "tickets": refs})
    bad = client.post("/desk/bulk/", {"action": "priority", "priority": 99, "tickets": refs})
    client.post("/desk/bulk/", {"action": "close", "tickets": refs[:2]})

    rows = {t.reference: t for t in Ticket.objects.filter(reference__in=refs)}
    assert all(rows[r].assignee_id == people["agent"].pk for r in refs)
    assert all(rows[r].priority == 4 for r in refs)
    assert bad.status_code == 302
    assert [rows[r].stage for r in refs] == ["closed", "closed", "new"]


def test_saved_views(alpha):
    client = _client(alpha, "agent")

    client.post("/desk/views/", {"name": "My VPN", "query": "queue=open&tag=vpn"})

    assert "My VPN" in client.get("/desk/").content.decode()


def test_linking_related_tickets_shows_on_both_pages(alpha, new_ticket):
    first, second = new_ticket(subject="First"), new_ticket(subject="Second")
    client = _client(alpha, "agent")

    client.post(f"/desk/tickets/{first.reference}/link/", {"other": second.reference})
    itself = client.post(f"/desk/tickets/{first.reference}/link/", {"other": first.reference})

    assert second.reference in client.get(f"/desk/tickets/{first.reference}/").content.decode()
    assert first.reference in client.get(f"/desk/tickets/{second.reference}/").content.decode()
    assert itself.status_code == 302


def test_required_custom_fields_are_enforced_and_stored(alpha, general):
    from helpdesk.models import CustomField

    CustomField.objects.create(
        department=general, key="order", label="Order number", field_type="number", required=True
    )
    CustomField.objects.create(
        department=general, key="plan", label="Plan", field_type="choice",
        choices="Free\nPro", required=False,
    )  # fmt: skip
    CustomField.objects.create(
        department=general, key="internal", label="Cost centre", field_type="text",
        customer_visible=False,
    )  # fmt: skip
    client = _client(alpha, "customer")
    form = {"department": general.pk, "subject": "S", "urgency": 2, "body": "B"}

    missing = client.post("/tickets/new/", form)
    bad_choice = client.post("/tickets/new/", {**form, "cf_order": "12", "cf_plan": "Gold"})
    ok = client.post(
        "/tickets/new/", {**form, "cf_order": "12", "cf_plan": "Pro", "cf_internal": "X"}
    )

    assert missing.status_code == 400 and "This field is required" in missing.content.decode()
    assert bad_choice.status_code == 400
    assert ok.status_code == 302
    assert Ticket.objects.get().custom_fields == {"order": "12", "plan": "Pro"}


def test_search_finds_old_tickets_beyond_the_recent_windows(alpha, new_ticket, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    monkeypatch.setattr("helpdesk.selectors.PAGE_SIZE", 2)
    old = new_ticket(subject="Ancient", body_text="fossil record")
    recent = [new_ticket(subject=f"Recent {i}", body_text="fossil hunt") for i in range(2)]
    Ticket.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=400))
    client = _client(alpha, "manager")

    first = client.get("/desk/", {"queue": "all", "q": "fossil"})
    cursor = first.context["page"].next_cursor
    second = client.get("/desk/", {"queue": "all", "q": "fossil", "cursor": cursor})

    assert _references(first) == {t.reference for t in recent}
    assert _references(second) == {old.reference}


@pytest.mark.parametrize("common_above", [0, 10**9], ids=["walk", "gin"])
def test_both_search_plans_give_the_newest_visible_matches(
    alpha, new_ticket, billing, monkeypatch, common_above
):
    """A word the planner thinks common walks the newest tickets; a rare one goes through
    the GIN index: the same pages, in the same order, with the same visibility."""
    import datetime as dt

    from django.utils import timezone

    monkeypatch.setattr("helpdesk.selectors.PAGE_SIZE", 2)
    monkeypatch.setattr("helpdesk.selectors.COMMON_WORD_MATCHES", common_above)
    found = [new_ticket(subject=f"Gizmo {i}", body_text="gizmo broke") for i in range(3)]
    new_ticket(subject="Gizmo billing", body_text="gizmo invoice", department=billing)
    new_ticket(subject="Unrelated", body_text="nothing here")
    now = timezone.now()
    for age, ticket in enumerate(found):
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=now - dt.timedelta(hours=age))
    client = _client(alpha, "agent")

    first = client.get("/desk/", {"queue": "all", "q": "gizmo"})
    rows = first.context["page"].tickets
    second = client.get(
        "/desk/", {"queue": "all", "q": "gizmo", "cursor": first.context["page"].next_cursor}
    )

    assert [t.reference for t in rows] == [found[0].reference, found[1].reference]
    assert [t.reference for t in second.context["page"].tickets] == [found[2].reference]
    assert second.context["page"].next_cursor is None


def test_reply_warns_when_someone_replied_since_the_page_was_opened(alpha, new_ticket, people):
    ticket = new_ticket()
    client = _client(alpha, "agent")
    page = client.get(f"/desk/tickets/{ticket.reference}/")
    seen = page.context["seen_message"]
    services.ticket_reply(ticket=ticket, author=people["manager"], body_text="I answered already")

    warned = client.post(
        f"/desk/tickets/{ticket.reference}/reply/",
        {"body": "My answer", "seen_message": seen, "seen_status": "new"},
    )
    sent = client.post(
        f"/desk/tickets/{ticket.reference}/reply/",
        {
            "body": "My answer",
            "seen_message": seen,
            "seen_status": "open",
            "confirm_collision": "1",
        },
    )

    assert warned.status_code == 409
    assert "Alpha Corp Manager replied since you opened this ticket" in warned.content.decode()
    assert "My answer" in warned.content.decode()  # the draft is kept
    assert sent.status_code == 302
    assert ticket.messages.filter(body_text="My answer").count() == 1


def test_reply_warns_when_the_status_changed(alpha, new_ticket, people):
    ticket = new_ticket()
    client = _client(alpha, "agent")
    seen = client.get(f"/desk/tickets/{ticket.reference}/").context["seen_message"]
    services.ticket_update(
        ticket=ticket, actor=people["manager"], status=TicketStatus.objects.get(key="resolved")
    )

    warned = client.post(
        f"/desk/tickets/{ticket.reference}/reply/",
        {"body": "x", "seen_message": seen, "seen_status": "new"},
    )

    assert warned.status_code == 409
    assert "The status changed to Resolved" in warned.content.decode()


def test_queue_counts_for_the_live_page_are_per_agent_and_per_tenant(
    alpha, bravo, new_ticket, billing
):
    client = _client(alpha, "agent")
    before = client.get("/desk/counts/").json()
    new_ticket()  # General: the agent's department
    new_ticket(department=billing)  # not the agent's

    after = client.get("/desk/counts/")

    assert after.status_code == 200 and after["Cache-Control"] == "no-store"
    assert set(after.json()) == {"mine", "unassigned", "open", "waiting"}
    assert int(after.json()["open"]) == int(before["open"]) + 1
    assert int(after.json()["unassigned"]) == int(before["unassigned"]) + 1
    # Bravo's agent counts bravo's tickets: alpha's new ones are not among them.
    assert _client(bravo, "agent").get("/desk/counts/").json()["open"] == "0"
    assert _client(alpha, "customer").get("/desk/counts/").status_code in (302, 403)
    assert client.post("/desk/counts/").status_code == 405


@pytest.mark.parametrize("cap", [3, 100])
def test_an_agents_counts_equal_the_visible_tickets_capped(
    alpha, new_ticket, billing, people, monkeypatch, cap
):
    """Counted per part of what an agent sees (their departments, their own tickets) and
    then together: a ticket in both parts counts once, and the cap still holds."""
    from helpdesk import selectors
    from helpdesk.access import tickets_visible_to

    monkeypatch.setattr(selectors, "COUNT_CAP", cap)
    agent = people["agent"]
    new_ticket(subject="Own department, unassigned")
    both = new_ticket(subject="Own department, mine")  # in both parts
    billing_mine = new_ticket(subject="Billing, mine", department=billing)
    new_ticket(subject="Billing, not mine", department=billing)
    for ticket in (both, billing_mine):
        services.ticket_assign(ticket=ticket, actor=people["manager"], assignee=agent)

    counts = selectors.queue_counts(user=agent)

    active = Ticket.objects.filter(merged_into__isnull=True, stage__in=["new", "open", "pending"])
    expected_open = tickets_visible_to(agent, active).count()
    expected_mine = active.filter(assignee=agent).count()
    assert expected_open == 3 and expected_mine == 2
    shown = lambda n: f"{cap - 1}+" if n >= cap else str(n)  # noqa: E731
    assert counts["open"] == shown(expected_open)
    assert counts["mine"] == shown(expected_mine)
    assert counts["unassigned"] == "1"


def test_queue_rows_escape_what_people_typed_and_show_the_filters_chosen(alpha, new_ticket, people):
    hostile = new_ticket(
        subject='<script>alert("s")</script> & co',
        requester=None,
        requester_email="x@example.com",
        requester_name='<img src=x onerror="alert(1)">',
    )
    services.ticket_assign(ticket=hostile, actor=people["agent"], assignee=people["agent"])
    client = _client(alpha, "manager")

    page = client.get(
        f"/desk/?queue=open&priority={hostile.priority}&stage=new&stage=open"
        f"&assignee={people['agent'].pk}"
    ).content.decode()

    assert _references_in(page) == {hostile.reference}
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;s&quot;)&lt;/script&gt; &amp; co" in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert f'<option value="{hostile.priority}" selected>' in page
    assert '<option value="new" selected>' in page and '<option value="open" selected>' in page
    assert '<option value="pending">' in page
    assert f'<option value="{people["agent"].pk}" selected>' in page
    assert f'href="/desk/tickets/{hostile.reference}/"' in page


def test_queue_rows_show_jalali_dates_in_persian(alpha, new_ticket):
    ticket = new_ticket(subject="تاریخ")
    client = _client(alpha, "manager")

    page = client.get("/desk/?queue=open", HTTP_ACCEPT_LANGUAGE="fa").content.decode()

    row = page[page.index(f'data-reference="{ticket.reference}"') :]
    row = row[: row.index("</tr>")]
    assert "Tier 2" not in row
    from accounts.calendars import format_local_date

    with translation.override("fa"):
        assert format_local_date(ticket.updated_at, with_time=True) in row
    assert any(digit in row for digit in "۰۱۲۳۴۵۶۷۸۹")


def test_an_agents_own_and_unassigned_queues_keep_to_what_they_may_see(
    alpha, new_ticket, people, billing
):
    """The two queues skip the visibility filter (selectors._queue_within_visibility):
    their own filter must keep other departments' unassigned tickets out."""
    theirs_elsewhere = new_ticket(subject="Billing, assigned to the agent", department=billing)
    services.ticket_assign(
        ticket=theirs_elsewhere, actor=people["manager"], assignee=people["agent"]
    )
    billing_unassigned = new_ticket(subject="Billing, nobody", department=billing)
    general_unassigned = new_ticket(subject="General, nobody")
    client = _client(alpha, "agent")

    mine = _references(client.get("/desk/?queue=mine"))
    unassigned = _references(client.get("/desk/?queue=unassigned"))

    assert mine == {theirs_elsewhere.reference}
    assert unassigned == {general_unassigned.reference}
    assert billing_unassigned.reference not in mine | unassigned
    assert _references(_client(alpha, "billing_agent").get("/desk/?queue=mine")) == set()


def test_the_desks_select_widget_renders_as_djangos_own():
    from django import forms

    from helpdesk.forms import InlineSelect

    choices = [
        ("", "—"),
        ("Group <1>", [(1, "One & only"), (2, '"Two"')]),
        (3, "<b>Three</b>"),
    ]
    for value in (None, 2, "3", ""):
        attrs = {"id": "id_x", "class": "a b", "required": True, "disabled": False}
        ours = InlineSelect(attrs=attrs, choices=choices).render("x", value)
        djangos = forms.Select(attrs=attrs, choices=choices).render("x", value)
        # The same elements, attributes and text; Django's indents between elements.
        assert ours == re.sub(r">\s+<", "><", djangos).strip()


def test_the_customer_sidebar_lists_only_tickets_the_agent_may_open(
    alpha, new_ticket, general, billing, people
):
    """An IT agent sees nothing of the same employee's HR (here: billing) requests."""
    seen = new_ticket(subject="Laptop fan is loud")
    hidden = new_ticket(subject="Salary question for March", department=billing)
    services.ticket_link_related(ticket=seen, other=hidden, actor=people["manager"])
    agent = people["agent"]
    assert not agent.is_manager and billing.pk not in set(
        agent.department_memberships.values_list("department_id", flat=True)
    )
    other = new_ticket(subject="Mouse double-clicks")

    page = _client(alpha, "agent").get(f"/desk/tickets/{other.reference}/").content.decode()
    linked = _client(alpha, "agent").get(f"/desk/tickets/{seen.reference}/").content.decode()
    manager = _client(alpha, "manager").get(f"/desk/tickets/{other.reference}/").content.decode()

    assert seen.reference in page  # an earlier ticket of the same requester
    assert hidden.reference not in page and "Salary question" not in page
    assert hidden.reference not in linked and "Salary question" not in linked
    assert hidden.reference in manager
