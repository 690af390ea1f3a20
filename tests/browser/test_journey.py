"""One ticket's life in a real browser: the customer asks, the agent answers with a canned
reply, the customer confirms it is solved. Two browser contexts, two people, one server.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import MISSING_CHROMIUM, chromium_available

# Decided at collection, before any fixture: no test database is built for nothing.
pytestmark = pytest.mark.skipif(not chromium_available(), reason=MISSING_CHROMIUM)


def sign_in(page: Page, site, role: str) -> None:
    page.goto(f"{site.base_url}/accounts/login/")
    form = page.locator("form").filter(has=page.locator("input[name=login]"))
    form.locator("input[name=login]").fill(site.email(role))
    form.locator("input[name=password]").fill(site.password)
    form.locator("button[type=submit]").click()
    # allauth sends us to LOGIN_REDIRECT_URL ("/"); signed in, the header links to sign-out.
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("header a[href='/accounts/logout/']")).to_be_visible()


def test_customer_asks_agent_answers_with_canned_reply_customer_resolves(site, new_context):
    subject = f"Browser journey {uuid.uuid4().hex[:8]}: the printer prints blank pages"
    customer = new_context().new_page()
    agent = new_context().new_page()

    # --- the customer signs in and opens a request ------------------------------------
    sign_in(customer, site, "customer")
    customer.goto(f"{site.base_url}/tickets/new/")
    expect(customer.get_by_role("heading", name="New request")).to_be_visible()
    customer.get_by_label("Department").select_option(label="General support")
    customer.get_by_label("Subject").fill(subject)
    customer.get_by_label("Description").fill(
        "Since this morning every page comes out of the printer blank."
    )
    customer.get_by_role("button", name="Send request").click()

    expect(customer).to_have_url(re.compile(r"/tickets/[^/]+/submitted/$"))
    expect(customer.get_by_role("heading", name="Request received")).to_be_visible()
    code = customer.locator("strong.reference").inner_text().strip()
    assert code and code in customer.url
    customer.screenshot(path=str(site.artifacts / "1-customer-submitted.png"), full_page=True)

    # --- the agent finds it in the desk queue and answers with the canned reply -------
    sign_in(agent, site, "agent")
    agent.goto(f"{site.base_url}/desk/")
    row = agent.locator(f"tr[data-reference='{code}']")
    expect(row).to_be_visible()
    expect(row).to_contain_text(subject)
    row.get_by_role("link", name=code).click()

    expect(agent).to_have_url(re.compile(rf"/desk/tickets/{re.escape(code)}/$"))
    expect(agent.get_by_role("heading", name=subject)).to_be_visible()
    agent.get_by_label("Canned reply").select_option(label=site.canned_title)
    body = agent.locator("#id_body")
    expect(body).to_have_value(re.compile(rf"^Hello Alpha Corp Customer,\n\n.*{code}", re.S))
    assert "{" not in body.input_value()  # every placeholder was filled in
    agent.get_by_role("button", name="Send", exact=True).click()

    expect(agent.locator(".messages")).to_contain_text("Reply sent.")
    reply = agent.locator("ol.conversation li.message.staff")
    expect(reply).to_contain_text(f"we found the cause of {code} and fixed it")
    agent.screenshot(path=str(site.artifacts / "2-agent-ticket.png"), full_page=True)

    # --- the customer reads the answer and confirms it solved the problem -------------
    customer.goto(f"{site.base_url}/tickets/{code}/")
    answer = customer.locator("ol.conversation li.message.staff")
    expect(answer).to_have_count(1)
    expect(answer).to_contain_text("Hello Alpha Corp Customer,")
    expect(answer).to_contain_text(f"we found the cause of {code} and fixed it")
    expect(answer).not_to_contain_text("{customer_name}")
    expect(answer.locator(".badge")).to_have_text("Support")
    customer.screenshot(path=str(site.artifacts / "3-customer-reply.png"), full_page=True)

    customer.get_by_role("button", name="This solved my problem").click()
    expect(customer.locator(".messages")).to_contain_text("We marked your request as resolved")
    status = customer.locator("p.meta .status")
    expect(status).to_have_text("Resolved")
    expect(status).to_have_attribute("data-status", "resolved")
    # Resolved: the page now offers to reopen instead (found by its form, not its wording).
    expect(customer.locator("form[action$='/reopen/'] button")).to_be_visible()
    expect(customer.get_by_role("button", name="This solved my problem")).to_have_count(0)
    customer.screenshot(path=str(site.artifacts / "4-customer-resolved.png"), full_page=True)
