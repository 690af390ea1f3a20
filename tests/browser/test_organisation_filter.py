"""The desk's organisation filter in a real browser, for a tenant with more organisations
than a select should list: the agent types part of a name, picks the suggestion, filters,
and sees only that organisation's tickets (static/js/organisation_filter.js)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import MISSING_CHROMIUM, Site, chromium_available
from tests.browser.test_journey import sign_in

pytestmark = pytest.mark.skipif(not chromium_available(), reason=MISSING_CHROMIUM)


@dataclass
class Organisations:
    chosen_id: int
    chosen_name: str
    chosen_ticket: str  # tracking codes
    other_ticket: str


@pytest.fixture(scope="module")
def organisations(site: Site, django_db_blocker) -> Iterator[Organisations]:
    """Committed for the server's threads: more organisations than the select shows, and a
    ticket from each of two of them. The customers' own organisations are put back and
    everything made here deleted at the end (the tickets by ``site`` too)."""
    from accounts.models import User
    from helpdesk.models import Channel, CustomerProfile, Department, Organisation
    from helpdesk.services.tickets import ticket_create
    from helpdesk.views.desk import ORGANISATION_SELECT_MAX
    from tenants.context import reset_to_public_schema, tenant_schema

    tag = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        with tenant_schema(site.tenant.schema_name):
            made = Organisation.objects.bulk_create(
                [Organisation(name=f"Filler {tag} {i:03}") for i in range(ORGANISATION_SELECT_MAX)]
                + [
                    Organisation(name=f"Zenith Robotics {tag}"),
                    Organisation(name=f"Zenit Foods {tag}"),
                ]
            )
            zenith, zenit = made[-2:]
            customer = User.objects.get(email=site.email("customer"))
            other = User.objects.get(email=site.email("other.customer"))
            before = {
                user.pk: CustomerProfile.objects.filter(user=user)
                .values_list("organisation_id", flat=True)
                .first()
                for user in (customer, other)
            }
            tickets = []
            for user, organisation in ((customer, zenith), (other, zenit)):
                CustomerProfile.objects.update_or_create(
                    user=user, defaults={"organisation": organisation}
                )
                tickets.append(
                    ticket_create(
                        subject=f"Organisation filter {tag}: {organisation.name}",
                        body_text="The robot arm stopped.",
                        department=Department.objects.get(slug="general"),
                        channel=Channel.PORTAL,
                        requester=user,
                    )
                )
        reset_to_public_schema()
        try:
            yield Organisations(
                chosen_id=zenith.pk,
                chosen_name=zenith.name,
                chosen_ticket=tickets[0].reference,
                other_ticket=tickets[1].reference,
            )
        finally:
            with tenant_schema(site.tenant.schema_name):
                for user_id, organisation_id in before.items():
                    CustomerProfile.objects.filter(user_id=user_id).update(
                        organisation_id=organisation_id
                    )
                Organisation.objects.filter(pk__in=[o.pk for o in made]).delete()
            reset_to_public_schema()


def test_an_agent_finds_an_organisation_by_part_of_its_name_and_filters_by_it(
    site, organisations, new_context
):
    agent = new_context().new_page()
    sign_in(agent, site, "agent")
    agent.goto(f"{site.base_url}/desk/?queue=open")
    expect(agent.locator(f"tr[data-reference='{organisations.other_ticket}']")).to_be_visible()
    expect(agent.locator("select[name=organisation]")).to_have_count(0)

    box = agent.get_by_role("combobox", name="Organisation")
    box.press_sequentially("zenit")  # both Zenith Robotics and Zenit Foods
    options = agent.get_by_role("listbox", name="Organisation").get_by_role("option")
    expect(options).to_have_count(2)
    box.press_sequentially("h")
    expect(options).to_have_count(1)
    expect(options.first).to_have_text(organisations.chosen_name)
    agent.screenshot(path=str(site.artifacts / "organisation-filter-suggestions.png"))
    options.first.click()

    expect(box).to_have_value(organisations.chosen_name)
    expect(agent.locator("input[type=hidden][name=organisation]")).to_have_value(
        str(organisations.chosen_id)
    )
    agent.get_by_role("button", name="Filter", exact=True).click()

    expect(agent).to_have_url(re.compile(rf"[?&]organisation={organisations.chosen_id}(&|$)"))
    expect(agent.locator(f"tr[data-reference='{organisations.chosen_ticket}']")).to_be_visible()
    expect(agent.locator(f"tr[data-reference='{organisations.other_ticket}']")).to_have_count(0)
    expect(agent.locator("#live-queue tbody tr")).to_have_count(1)
    expect(agent.get_by_role("combobox", name="Organisation")).to_have_value(
        organisations.chosen_name
    )
    agent.screenshot(path=str(site.artifacts / "organisation-filter.png"), full_page=True)

    # Emptying the box lifts the filter.
    agent.get_by_role("combobox", name="Organisation").fill("")
    agent.get_by_role("button", name="Filter", exact=True).click()
    expect(agent.locator(f"tr[data-reference='{organisations.other_ticket}']")).to_be_visible()

    # Right to left: in Persian the suggestions open under the box from its right edge.
    with agent.expect_navigation():
        agent.locator("#language-select").select_option("fa")
    expect(agent.locator("html")).to_have_attribute("dir", "rtl")
    box = agent.locator("input[name=organisation_name]")
    expect(box).to_have_attribute("dir", "auto")
    box.press_sequentially("robot")
    listbox = agent.get_by_role("listbox")
    expect(listbox.get_by_role("option")).to_have_count(1)
    box_right = box.bounding_box()["x"] + box.bounding_box()["width"]
    list_right = listbox.bounding_box()["x"] + listbox.bounding_box()["width"]
    assert abs(box_right - list_right) < 2
    agent.screenshot(path=str(site.artifacts / "organisation-filter-fa.png"))
