"""A department's custom fields: who may see and fill them, and what a value must be.

One set of rules for every way a ticket comes in. Values are checked by the same Django
form fields the portal's form shows (so a value means the same wherever it was typed),
after a type check for values that arrive as JSON: ``true`` is not text, ``"3"`` is a
number only where a number is asked for. Values are stored as the portal stores them:
numbers as exact decimal strings, dates as ISO strings, checkboxes as booleans.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from helpdesk.models import CustomField, FieldType

TEXT_MAX_LENGTH = 500


def custom_fields_by_department(
    department_ids: Iterable[int], *, staff: bool
) -> dict[int, list[CustomField]]:
    """The fields of each department, in their order; a customer's only the visible ones."""
    fields = CustomField.objects.filter(department_id__in=set(department_ids))
    if not staff:
        fields = fields.filter(customer_visible=True)
    found: dict[int, list[CustomField]] = {}
    for field in fields.order_by("department_id", "position", "id"):
        found.setdefault(field.department_id, []).append(field)
    return found


def customer_visible_keys(department_ids: Iterable[int]) -> dict[int, set[str]]:
    """The keys a customer may see, per department (one query for a page of tickets)."""
    keys: dict[int, set[str]] = {}
    visible = CustomField.objects.filter(
        department_id__in=set(department_ids), customer_visible=True
    ).order_by()  # the model's order joins the department table
    for department_id, key in visible.values_list("department_id", "key"):
        keys.setdefault(department_id, set()).add(key)
    return keys


def custom_values_visible(values: Mapping[str, Any], keys: set[str]) -> dict[str, Any]:
    """What a customer may see of a ticket's stored values."""
    return {key: value for key, value in (values or {}).items() if key in keys}


def form_field(field: CustomField) -> forms.Field:
    """The form field that asks for ``field`` (and checks its value)."""
    common = {"label": field.label, "required": field.required}
    if field.field_type == FieldType.NUMBER:
        return forms.DecimalField(max_digits=18, decimal_places=4, **common)
    if field.field_type == FieldType.CHOICE:
        choices = [("", "---")] + [(c, c) for c in field.choice_list]
        return forms.ChoiceField(choices=choices, **common)
    if field.field_type == FieldType.DATE:
        # ISO only: what a date input sends, and the same in every language.
        return forms.DateField(
            input_formats=["%Y-%m-%d"], widget=forms.DateInput(attrs={"type": "date"}), **common
        )
    if field.field_type == FieldType.CHECKBOX:
        return forms.BooleanField(**common)
    return forms.CharField(max_length=TEXT_MAX_LENGTH, **common)


def stored_value(value: Any) -> Any:
    """A cleaned value as a ticket's ``custom_fields`` keeps it."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)  # exact, unlike a float
    return value


def _typed(field: CustomField, value: Any) -> Any:
    """``value`` as its form field takes it, or ValidationError for a JSON value of the
    wrong type (the form field would turn ``true`` into the text "True")."""
    if value is None:
        return None
    kind = field.field_type
    if kind == FieldType.CHECKBOX:
        if not isinstance(value, bool):
            raise ValidationError(_("Enter true or false."), code="invalid")
        return value
    if kind == FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValidationError(_("Enter a number."), code="invalid")
        return str(value)
    if kind == FieldType.DATE:
        if not isinstance(value, str):
            raise ValidationError(_("Enter a valid date."), code="invalid")
        return value
    if kind == FieldType.CHOICE:
        if not isinstance(value, str):
            raise ValidationError(
                _("Select a valid choice. %(value)s is not one of the available choices.")
                % {"value": value},
                code="invalid_choice",
            )
        return value
    if not isinstance(value, str):
        raise ValidationError(_("Enter text."), code="invalid")
    return value


def custom_values_clean(
    *, fields: Sequence[CustomField], values: Mapping[str, Any]
) -> dict[str, Any]:
    """``values`` checked against ``fields`` (those the sender may fill: a customer's are
    only the visible ones), ready to store; every problem at once as a ValidationError
    keyed by field key.

    A key outside ``fields`` is refused with the words an unknown key gets, so a customer
    learns nothing of staff-only fields. Required fields must be there; a value that
    leaves a field empty ("") is stored as absent, as the portal does.
    """
    by_key = {field.key: field for field in fields}
    errors: dict[str, list[str]] = {}
    for key in values:
        if key not in by_key:
            errors[key] = [_("No such field in this department.")]
    cleaned: dict[str, Any] = {}
    for key, field in by_key.items():
        try:
            value = form_field(field).clean(_typed(field, values.get(key)))
        except ValidationError as error:
            errors[key] = error.messages
            continue
        if key in values and value not in (None, ""):
            cleaned[key] = stored_value(value)
    if errors:
        raise ValidationError(errors, code="custom_fields")
    return cleaned
