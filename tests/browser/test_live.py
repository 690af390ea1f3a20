"""The live desk in a real browser: an agent and a customer, two browser contexts, each
seeing the other's action appear without reloading.

Served by daphne (``asgi_site`` in conftest.py): the pages patch themselves from the
tenant's websockets (``static/js/live.js``). No step here reloads a page that must
update live; each such page carries a marker in ``window`` that a reload would wipe, and
the test checks it is still there after the update arrived.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, WebSocket, expect

from tests.browser.conftest import MISSING_CHROMIUM, TIMEOUT_MS, chromium_available
from tests.browser.test_journey import sign_in

pytestmark = pytest.mark.skipif(not chromium_available(), reason=MISSING_CHROMIUM)

LIVE_TIMEOUT_MS = 15_000
NOTE_GRACE_MS = 2_500  # how long the customer's page must stay free of the internal note


class SocketLog:
    """Every JSON frame the page's websockets received (across navigations), so a step
    can wait until the socket is really subscribed before the other person acts."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.frames: list[dict] = []
        self.sent: list[dict] = []
        self.urls: list[str] = []
        page.on("websocket", self._attach)

    def _attach(self, socket: WebSocket) -> None:
        self.urls.append(socket.url)
        socket.on("framereceived", lambda payload: self._keep(payload, self.frames))
        socket.on("framesent", lambda payload: self._keep(payload, self.sent))

    @staticmethod
    def _keep(payload: str | bytes, into: list[dict]) -> None:
        try:
            frame = json.loads(payload)
        except (TypeError, ValueError):
            return
        if isinstance(frame, dict):
            into.append(frame)

    def mark(self) -> int:
        return len(self.frames)

    def wait_for(self, since: int, what: str, predicate: Callable[[dict], bool]) -> dict:
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while True:
            for frame in self.frames[since:]:
                if predicate(frame):
                    return frame
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no websocket frame {what} within {TIMEOUT_MS} ms on {self.page.url}; "
                    f"sockets opened: {self.urls}; frames since: {self.frames[since:]}"
                )
            self.page.wait_for_timeout(100)  # lets Playwright dispatch the socket events

    def wait_watching(self, since: int, reference: str) -> None:
        self.wait_for(
            since,
            f'"watching" {reference}',
            lambda f: f.get("type") == "watching" and f.get("ticket") == reference,
        )

    def wait_replayed(self, since: int) -> None:
        self.wait_for(since, '"replayed"', lambda f: f.get("type") == "replayed")


def pin(page: Page) -> None:
    """Leave a marker in the page's window: a reload or navigation would wipe it."""
    page.evaluate("window.__livePinned = true")


def assert_not_reloaded(page: Page, what: str) -> None:
    assert page.evaluate("window.__livePinned === true"), (
        f"{what}: the page was reloaded or navigated; the update must arrive in place"
    )


def send_request(page: Page, site, subject: str, description: str) -> str:
    """The signed-in customer's new request to General support; its tracking code."""
    page.goto(f"{site.base_url}/tickets/new/")
    page.get_by_label("Department").select_option(label="General support")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Description").fill(description)
    page.get_by_role("button", name="Send request").click()
    expect(page).to_have_url(re.compile(r"/tickets/[^/]+/submitted/$"))
    return page.locator("strong.reference").inner_text().strip()


def test_agent_and_customer_see_each_other_live(asgi_site, live_context):
    site = asgi_site
    tag = uuid.uuid4().hex[:8]
    subject = f"Live desk {tag}: the scanner jams on every page"
    agent_reply = f"Hello from the agent ({tag}): please try the rear paper tray."
    internal_note = f"INTERNAL {tag}: customer is on the old firmware, do not mention it."
    customer_reply = f"Customer again ({tag}): the rear tray works, thank you!"

    customer = live_context().new_page()
    agent = live_context().new_page()
    customer_socket = SocketLog(customer)
    agent_socket = SocketLog(agent)

    # --- the agent signs in and keeps the queue open ------------------------------------
    sign_in(agent, site, "agent")
    since = agent_socket.mark()
    agent.goto(f"{site.base_url}/desk/")
    expect(agent.locator("#live-status")).to_have_attribute("data-state", "live")
    agent_socket.wait_replayed(since)  # subscribed, and the catch-up is done
    pin(agent)
    open_before = agent.locator('[data-count="open"]').inner_text().strip()

    # --- the customer signs in and sends a request ----------------------------------------
    sign_in(customer, site, "customer")
    code = send_request(customer, site, subject, "It pulls two sheets at once and jams.")
    assert code and code in customer.url

    # --- the new ticket's row appears in the agent's open queue ---------------------------
    row = agent.locator(f'#live-queue tr[data-reference="{code}"]')
    expect(row, "the new ticket's row must appear in the open desk queue").to_be_visible(
        timeout=LIVE_TIMEOUT_MS
    )
    expect(row.locator("[data-col=subject]")).to_have_text(subject)
    expect(row.locator("[data-col=status]")).to_have_text("New")
    expect(row.locator("[data-col=department]")).to_have_text("General support")
    expect(row.locator("[data-col=requester]")).to_have_text("Alpha Corp Customer")
    expect(row.get_by_role("link", name=code)).to_have_attribute("href", f"/desk/tickets/{code}/")
    expect(row, "a ticket the agent never opened is marked").to_have_class(
        re.compile(r"\bunseen\b")
    )
    expect(row.locator(".unseen-mark")).to_have_attribute(
        "title", "Changed since you last opened it"
    )
    assert open_before.isdigit(), open_before  # a handful of tickets in the test tenant
    expect(
        agent.locator('[data-count="open"]'), "the open queue's badge must move live"
    ).to_have_text(str(int(open_before) + 1), timeout=LIVE_TIMEOUT_MS)
    notice = agent.locator("#live-notices li").filter(has_text=code)
    expect(notice, "a ticket landing in the agent's department is announced").to_have_count(1)
    expect(notice.get_by_role("link")).to_have_text(f"New ticket · {code} · {subject}")
    expect(notice.get_by_role("link")).to_have_attribute("href", f"/desk/tickets/{code}/")
    assert_not_reloaded(agent, "desk queue")
    agent.screenshot(path=str(site.artifacts / "live-1-agent-queue.png"), full_page=True)
    notice.get_by_role("button", name="Dismiss").click()
    expect(notice).to_have_count(0)

    # --- the customer keeps their ticket open --------------------------------------------
    since = customer_socket.mark()
    customer.goto(f"{site.base_url}/tickets/{code}/")
    expect(customer.get_by_role("heading", name=subject)).to_be_visible()
    customer_status = customer.locator("[data-live-status]")
    expect(customer_status).to_have_text("Received")
    customer_socket.wait_watching(since, code)
    pin(customer)
    conversation = customer.locator("ol.conversation")

    # --- the agent opens it, writes an internal note, then answers publicly ----------------
    since = agent_socket.mark()
    row.get_by_role("link", name=code).click()
    expect(agent).to_have_url(re.compile(rf"/desk/tickets/{re.escape(code)}/$"))
    agent_socket.wait_watching(since, code)

    reply_form = agent.locator("form.reply-form")
    reply_form.locator("#id_body").fill(internal_note)
    reply_form.get_by_label("Internal note (customers never see it)").check()
    reply_form.get_by_role("button", name="Send", exact=True).click()
    expect(agent.locator(".messages")).to_contain_text("Note added.")
    expect(agent.locator("ol.conversation li.message.internal")).to_contain_text(internal_note)

    reply_form = agent.locator("form.reply-form")
    reply_form.locator("#id_body").fill(agent_reply)
    since = agent_socket.mark()
    reply_form.get_by_role("button", name="Send", exact=True).click()
    expect(agent.locator(".messages")).to_contain_text("Reply sent.")

    # --- the customer's open page shows the reply (and the new status), never the note ----
    expect(
        conversation.locator("li.message.staff"),
        "the agent's reply must appear live on the customer's open ticket page",
    ).to_contain_text(agent_reply, timeout=LIVE_TIMEOUT_MS)
    expect(customer_status, "the status must follow live").to_have_text(
        "In progress", timeout=LIVE_TIMEOUT_MS
    )
    assert_not_reloaded(customer, "customer ticket page")
    # The note was written (and its event delivered) before the reply, on the same server:
    # had it leaked, it would be here already. Give it a little longer anyway.
    customer.wait_for_timeout(NOTE_GRACE_MS)
    expect(
        conversation, "an internal note must never reach the customer's page"
    ).not_to_contain_text(internal_note, timeout=1)
    expect(conversation.locator("li.message.internal")).to_have_count(0, timeout=1)
    assert internal_note not in customer.content()
    customer.screenshot(path=str(site.artifacts / "live-2-customer-sees-reply.png"), full_page=True)

    # --- the customer answers; the agent's open page shows it ------------------------------
    agent_conversation = agent.locator("ol.conversation")
    expect(agent_conversation).to_contain_text(agent_reply)  # the reply's redirect target
    agent_socket.wait_watching(since, code)  # the socket of the page the reply led to
    pin(agent)

    sent_before_reply = len(agent_socket.sent)
    customer.locator("#id_body").fill(customer_reply)
    customer.get_by_role("button", name="Send reply").click()
    expect(customer.locator(".messages")).to_contain_text("Your reply was sent.")
    expect(customer.locator("ol.conversation")).to_contain_text(customer_reply)

    incoming = agent_conversation.locator("li.message:not(.staff)").filter(has_text=customer_reply)
    expect(
        incoming, "the customer's reply must appear live on the agent's open ticket page"
    ).to_have_count(1, timeout=LIVE_TIMEOUT_MS)
    expect(incoming).to_contain_text("Alpha Corp Customer")
    # The page shows the reply itself: no notice about the ticket the agent has open.
    expect(agent.locator("#live-notices li").filter(has_text=code)).to_have_count(0)
    assert_not_reloaded(agent, "agent ticket page")
    agent.screenshot(path=str(site.artifacts / "live-3-agent-sees-customer.png"), full_page=True)

    # --- the agent watched that change happen: back in the queue, the row is not marked --
    agent.bring_to_front()  # the agent looks at it (a hidden page reports nothing)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not any(
        f.get("type") == "seen" and f.get("ticket") == code
        for f in agent_socket.sent[sent_before_reply:]
    ):
        received = [(f.get("id"), f.get("event", {}).get("type")) for f in agent_socket.frames]
        assert time.monotonic() < deadline, (
            f"the ticket page never said seen: sent {agent_socket.sent}; received {received}"
        )
        agent.wait_for_timeout(100)
    agent.wait_for_timeout(500)  # the server writes the mark after the frame
    back_in_queue = agent_socket.mark()
    agent.goto(f"{site.base_url}/desk/")
    expect(
        agent.locator(f'#live-queue tr[data-reference="{code}"]'),
        "a change the agent watched live on the ticket page is not marked in the queue",
    ).not_to_have_class(re.compile(r"\bunseen\b"))

    # --- back in the queue: what the page was rendered with is not announced again ---------
    agent_socket.wait_replayed(back_in_queue)
    agent.wait_for_timeout(500)
    notices = agent.locator("#live-notices li")
    expect(notices, "replayed events are not news").to_have_count(0)

    # --- a customer's reply on an unassigned ticket of the agent's department is ----------
    customer.locator("#id_body").fill(f"One more thing ({tag}).")
    customer.get_by_role("button", name="Send reply").click()
    expect(customer.locator(".messages")).to_contain_text("Your reply was sent.")
    expect(
        notices.filter(has_text=code), "a customer's reply is announced on the queue page"
    ).to_have_text(f"Customer replied · {code} · Alpha Corp Customer×", timeout=LIVE_TIMEOUT_MS)


def test_my_requests_gains_a_row_and_the_desk_page_follows_field_changes(asgi_site, live_context):
    """A request made elsewhere appears in the customer's open "My requests" list; an
    assignment made on one agent page shows on another page of the same ticket."""
    site = asgi_site
    tag = uuid.uuid4().hex[:8]
    subject = f"Second tab {tag}: the badge printer is offline"

    customer = live_context()
    listing = customer.new_page()
    listing_socket = SocketLog(listing)
    sign_in(listing, site, "customer")
    since = listing_socket.mark()
    listing.goto(f"{site.base_url}/tickets/")
    listing_socket.wait_replayed(since)
    pin(listing)

    # --- another tab of the same customer sends a request ----------------------------------
    other_tab = customer.new_page()
    code = send_request(other_tab, site, subject, "Nothing prints since this morning.")

    row = listing.locator(f'#live-queue tr[data-reference="{code}"]')
    expect(row, "the new request must appear in the open list").to_be_visible(
        timeout=LIVE_TIMEOUT_MS
    )
    expect(row.locator("[data-col=subject]")).to_have_text(subject)
    expect(row.locator("[data-col=status]")).to_have_text("Received")
    expect(row.get_by_role("link", name=code)).to_have_attribute("href", f"/tickets/{code}/")
    assert_not_reloaded(listing, "customer's list")

    # --- one agent page watches the ticket, another assigns it -----------------------------
    desk = live_context()
    watching = desk.new_page()
    watching_socket = SocketLog(watching)
    sign_in(watching, site, "agent")
    since = watching_socket.mark()
    watching.goto(f"{site.base_url}/desk/tickets/{code}/")
    watching_socket.wait_watching(since, code)
    pin(watching)
    assigned = watching.locator("[data-live-assignee]")
    expect(assigned).to_be_hidden()

    history = watching.locator("ul.timeline li")
    entries_before = history.count()
    acting = desk.new_page()
    acting.goto(f"{site.base_url}/desk/tickets/{code}/")
    choice = acting.locator("#assignee option:not([value=''])").first
    name = choice.inner_text().strip()
    acting.locator("#assignee").select_option(value=choice.get_attribute("value"))
    acting.get_by_role("button", name="Assign", exact=True).click()

    expect(assigned, "the assignment must show on the other open page").to_have_text(
        f"assigned to {name}", timeout=LIVE_TIMEOUT_MS
    )
    expect(assigned).to_be_visible()
    expect(history, "the assignment joins the page's history").to_have_count(
        entries_before + 1, timeout=LIVE_TIMEOUT_MS
    )
    assert_not_reloaded(watching, "agent ticket page")


def test_two_agents_on_one_ticket_see_each_other_and_a_reply_made_meanwhile(
    asgi_site, live_context
):
    """The first agent learns at once that a second opened the ticket, the second at
    once that the first is there; a reply the second sends is announced above the
    first one's reply form before they send theirs."""
    site = asgi_site
    tag = uuid.uuid4().hex[:8]
    customer = live_context().new_page()
    sign_in(customer, site, "customer")
    code = send_request(
        customer, site, f"Two agents {tag}: VPN drops every hour", "It disconnects on the hour."
    )

    first = live_context().new_page()
    first_socket = SocketLog(first)
    sign_in(first, site, "agent")
    since = first_socket.mark()
    first.goto(f"{site.base_url}/desk/tickets/{code}/")
    first_socket.wait_watching(since, code)
    pin(first)
    first.locator("#id_body").fill("Drafting an answer")  # now replying

    second = live_context().new_page()
    second_socket = SocketLog(second)
    sign_in(second, site, "manager")
    since = second_socket.mark()
    second.goto(f"{site.base_url}/desk/tickets/{code}/")
    second_socket.wait_watching(since, code)

    # Well before the 20 s heartbeat: each learns of the other from the other's answer.
    expect(first.locator("#presence")).to_contain_text("is viewing", timeout=5_000)
    expect(second.locator("#presence")).to_contain_text("is replying", timeout=5_000)

    reply = f"Manager's answer ({tag}): we changed the VPN lease time."
    second.locator("#id_body").fill(reply)
    second.get_by_role("button", name="Send", exact=True).click()
    expect(second.locator(".messages")).to_contain_text("Reply sent.")

    warning = first.locator(".live-collision")
    expect(warning, "a reply by someone else is announced before ours is sent").to_be_visible(
        timeout=LIVE_TIMEOUT_MS
    )
    expect(warning).to_contain_text("replied since you opened this ticket")
    expect(first.locator("ol.conversation")).to_contain_text(reply)
    assert_not_reloaded(first, "first agent's ticket page")


def test_a_ticket_assigned_leaves_unassigned_and_enters_mine_live(asgi_site, live_context):
    site = asgi_site
    tag = uuid.uuid4().hex[:8]
    desk = live_context()
    unassigned = desk.new_page()
    unassigned_socket = SocketLog(unassigned)
    sign_in(unassigned, site, "agent")
    since = unassigned_socket.mark()
    unassigned.goto(f"{site.base_url}/desk/?queue=unassigned")
    unassigned_socket.wait_replayed(since)
    pin(unassigned)
    mine = desk.new_page()
    mine_socket = SocketLog(mine)
    since = mine_socket.mark()
    mine.goto(f"{site.base_url}/desk/?queue=mine")
    mine_socket.wait_replayed(since)
    pin(mine)

    customer = live_context().new_page()
    sign_in(customer, site, "customer")
    code = send_request(
        customer, site, f"Queues {tag}: the projector flickers", "Every few seconds."
    )

    waiting = unassigned.locator(f'#live-queue tr[data-reference="{code}"]')
    expect(waiting, "a new unassigned ticket appears in Unassigned").to_be_visible(
        timeout=LIVE_TIMEOUT_MS
    )
    expect(mine.locator(f'#live-queue tr[data-reference="{code}"]')).to_have_count(0)

    acting = desk.new_page()
    acting.goto(f"{site.base_url}/desk/tickets/{code}/")
    me = acting.locator("body").get_attribute("data-user-id")
    acting.locator("#assignee").select_option(value=me)
    acting.get_by_role("button", name="Assign", exact=True).click()

    expect(waiting, "assigned, it leaves Unassigned").to_have_class(
        re.compile(r"\blive-left\b"), timeout=LIVE_TIMEOUT_MS
    )
    expect(waiting).to_have_count(0, timeout=LIVE_TIMEOUT_MS)
    entered = mine.locator(f'#live-queue tr[data-reference="{code}"]')
    expect(entered, "assigned to me, it enters Mine").to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(entered.locator("[data-col=subject]")).to_have_text(
        f"Queues {tag}: the projector flickers"
    )
    assert_not_reloaded(unassigned, "unassigned queue")
    assert_not_reloaded(mine, "mine queue")
