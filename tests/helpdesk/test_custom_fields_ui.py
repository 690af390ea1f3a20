"""Custom fields on the pages: the portal form offers the chosen department's own fields
(customer-visible ones only), the desk shows and edits every field of the ticket's
department, staff-only ones included."""

from __future__ import annotations

import pytest

from helpdesk.models import Category, CustomField, Ticket


def _client(tenant, role):
    client = tenant.client()
    client.cookies["sessionid"] = tenant.sessions[role]
    return client


@pytest.fixture
def fields(general, billing):
    return {
        "order": CustomField.objects.create(
            department=general, key="order", label="Order number", field_type="number",
            required=True,
        ),
        "plan": CustomField.objects.create(
            department=general, key="plan", label="Plan", field_type="choice",
            choices="Free\nPro",
        ),
        "cost": CustomField.objects.create(
            department=general, key="cost", label="Cost centre", field_type="text",
            customer_visible=False,
        ),
        "invoice": CustomField.objects.create(
            department=billing, key="invoice", label="Invoice number", field_type="text",
        ),
    }  # fmt: skip


def test_the_portal_form_offers_the_chosen_departments_own_fields_and_categories(
    alpha, general, billing, fields
):
    Category.objects.create(department=general, name="Printers")
    Category.objects.create(department=billing, name="Refunds")
    client = _client(alpha, "customer")

    plain = client.get("/tickets/new/").content.decode()
    chosen = client.get("/tickets/new/", {"department": general.pk}).content.decode()
    other = client.get("/tickets/new/", {"department": billing.pk}).content.decode()
    junk = client.get("/tickets/new/", {"department": "x' OR 1=1"})

    assert 'id="custom-fields"' in plain and "Order number" not in plain
    assert "Order number" in chosen and "Plan" in chosen
    assert 'name="cf_order"' in chosen and "required" in chosen.split('name="cf_order"')[1][:80]
    assert "Cost centre" not in chosen  # staff-only: never on the customer's form
    assert "Invoice number" not in chosen and "Invoice number" in other
    assert "Printers" in chosen and "Refunds" not in chosen
    assert junk.status_code == 200 and "Order number" not in junk.content.decode()
    assert "js/ticket_form.js" in plain


def test_a_customer_cannot_set_a_staff_only_field_through_the_form(alpha, general, fields):
    client = _client(alpha, "customer")
    form = {"department": general.pk, "subject": "S", "urgency": 2, "body": "B"}

    response = client.post("/tickets/new/", {**form, "cf_order": "7", "cf_cost": "CC-1"})

    assert response.status_code == 302
    assert Ticket.objects.get().custom_fields == {"order": "7"}


def test_the_desk_shows_and_edits_every_field_staff_only_included(alpha, new_ticket, fields):
    ticket = new_ticket(custom_fields={"order": "7", "legacy": "kept"})
    client = _client(alpha, "agent")
    page = client.get(f"/desk/tickets/{ticket.reference}/").content.decode()
    update = {"status": ticket.status_id, "priority": ticket.priority, "tags": ""}

    bad = client.post(
        f"/desk/tickets/{ticket.reference}/update/", {**update, "cf_order": "x", "cf_plan": "Gold"}
    )
    unchanged = Ticket.objects.get(pk=ticket.pk).custom_fields
    ok = client.post(
        f"/desk/tickets/{ticket.reference}/update/",
        {**update, "cf_order": "8", "cf_plan": "Pro", "cf_cost": "CC-9"},
    )

    assert "Cost centre" in page and 'name="cf_cost"' in page
    assert (
        'value="7"' in page.split('name="cf_order"')[1][:60] or 'name="cf_order" value="7"' in page
    )
    assert "Invoice number" not in page  # another department's field
    assert bad.status_code == 400 and "Enter a number." in bad.content.decode()
    assert unchanged == {"order": "7", "legacy": "kept"}
    assert ok.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).custom_fields == {
        "order": "8", "plan": "Pro", "cost": "CC-9", "legacy": "kept",
    }  # fmt: skip


def test_another_tenants_department_id_brings_none_of_its_fields(alpha, bravo, fields, general):
    """Department ids repeat across schemas: ?department= is read in this tenant only."""
    from tenants.context import tenant_schema

    with tenant_schema(bravo.schema_name):
        from helpdesk.models import Department

        theirs = Department.objects.get(slug="general")
        CustomField.objects.create(
            department=theirs, key="secret", label="Bravo secret field", field_type="text"
        )
    client = _client(alpha, "customer")

    page = client.get("/tickets/new/", {"department": theirs.pk}).content.decode()

    assert "Bravo secret field" not in page


@pytest.mark.parametrize("bad", ["²", "①", "٣", "999999999999999999999", "-1", "1.5"])
def test_a_malformed_department_id_is_a_form_error_not_a_crash(alpha, bad):
    client = _client(alpha, "customer")

    posted = client.post(
        "/tickets/new/", {"department": bad, "subject": "S", "urgency": 2, "body": "B"}
    )
    asked = client.get("/tickets/new/", {"department": bad})

    assert posted.status_code == 400
    assert asked.status_code == 200
    assert not Ticket.objects.exists()
