from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from helpdesk.attachments import CheckedUpload, check_uploads
from helpdesk.custom_fields import custom_fields_by_department, form_field, stored_value
from helpdesk.ids import parse_id
from helpdesk.models import (
    Category,
    CustomField,
    Department,
    Level,
    Priority,
    TicketStatus,
)
from kb_pages.selectors import articles_internal_linked


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Attachments"))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        return check_uploads([super(AttachmentsField, self).clean(f, initial) for f in files])


class TicketForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none())
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.none(), required=False
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    urgency = forms.TypedChoiceField(
        label=_("How urgent is it?"), choices=Level.choices, coerce=int, initial=Level.MEDIUM
    )
    body = forms.CharField(label=_("Description"), widget=forms.Textarea, max_length=50_000)
    attachments = AttachmentsField()
    # The closed request this one follows up: its code, or a guest's link token.
    follow_up = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args, staff: bool = False, guest: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        departments = (
            Department.objects.all() if staff else Department.objects.filter(is_public=True)
        )
        self.fields["department"].queryset = departments
        self.fields["category"].queryset = Category.objects.filter(department__in=departments)
        if guest:
            self.fields["email"] = forms.EmailField(label=_("Your email"), max_length=254)
            self.fields["name"] = forms.CharField(label=_("Your name"), max_length=150)
        self.staff = staff
        # The chosen department (posted, or ``initial`` when the page is asked for with
        # ``?department=``) decides the custom fields and the categories on offer.
        chosen = self.data.get("department") or self.initial.get("department")
        chosen = str(parse_id(chosen) or "")
        if chosen:
            self.fields["category"].queryset = Category.objects.filter(
                department__in=departments, department_id=chosen
            )
        self._custom_fields = _custom_fields_of(chosen, staff=staff)
        for field in self._custom_fields:
            self.fields[f"cf_{field.key}"] = form_field(field)

    @property
    def custom_field_names(self) -> set[str]:
        return {f"cf_{field.key}" for field in self._custom_fields}

    def clean(self):
        cleaned = super().clean()
        department, category = cleaned.get("department"), cleaned.get("category")
        if department and category and category.department_id != department.pk:
            self.add_error("category", _("That category belongs to another department."))
        return cleaned

    def custom_values(self) -> dict:
        return _custom_values(self._custom_fields, self.cleaned_data)

    @property
    def uploads(self) -> list[CheckedUpload]:
        return self.cleaned_data.get("attachments") or []


def _custom_fields_of(department_id, *, staff: bool) -> list[CustomField]:
    pk = parse_id(department_id)
    return [] if pk is None else custom_fields_by_department([pk], staff=staff).get(pk, [])


def _custom_values(fields: list[CustomField], cleaned_data: dict) -> dict:
    values = {}
    for field in fields:
        value = cleaned_data.get(f"cf_{field.key}")
        if value in (None, "", []):
            continue
        values[field.key] = stored_value(value)
    return values


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea, max_length=50_000)
    attachments = AttachmentsField()

    @property
    def uploads(self) -> list[CheckedUpload]:
        return self.cleaned_data.get("attachments") or []


class InlineSelect(forms.Select):
    """A ``<select>`` whose options are written in its own template (see the template)."""

    template_name = "helpdesk/widgets/select.html"


class AgentReplyForm(ReplyForm):
    internal = forms.BooleanField(label=_("Internal note (customers never see it)"), required=False)
    status = forms.ModelChoiceField(
        label=_("Then set status"),
        queryset=TicketStatus.objects.all(),
        required=False,
        widget=InlineSelect,
    )

    def clean(self):
        # Refused here rather than in ticket_reply: the service knows nothing of the KB, and
        # the agent gets the message next to the text they can fix (or tick "internal").
        cleaned = super().clean()
        body = cleaned.get("body")
        if body and not cleaned.get("internal"):
            hidden = articles_internal_linked(text=body)
            if hidden:
                self.add_error(
                    "body",
                    gettext(
                        "Customers cannot open internal-only articles: %(titles)s. Remove the"
                        " link, or send this as an internal note."
                    )
                    % {"titles": ", ".join(f"“{article.title}”" for article in hidden)},
                )
        return cleaned


class TicketUpdateForm(forms.Form):
    status = forms.ModelChoiceField(
        label=_("Status"), queryset=TicketStatus.objects.all(), widget=InlineSelect
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, widget=InlineSelect
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), required=False, widget=InlineSelect
    )
    tags = forms.CharField(label=_("Tags"), required=False, max_length=500)

    def __init__(
        self, *args, department_id: int | None = None, custom_fields: dict | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        if department_id is not None:
            # Only the ticket's own department's categories: another's is not a choice.
            self.fields["category"].queryset = Category.objects.filter(department_id=department_id)
        # Every custom field of the department, staff-only ones included, as they stand.
        self._custom_fields = _custom_fields_of(department_id, staff=True)
        for field in self._custom_fields:
            name = f"cf_{field.key}"
            self.fields[name] = form_field(field)
            if custom_fields and field.key in custom_fields:
                self.initial.setdefault(name, custom_fields[field.key])
        self._stored = dict(custom_fields or {})

    def custom_values(self) -> dict:
        """The ticket's custom values after this form: the department's fields as posted,
        values of fields no longer defined (another department's) kept as they were."""
        defined = {field.key for field in self._custom_fields}
        kept = {k: v for k, v in self._stored.items() if k not in defined}
        return {**kept, **_custom_values(self._custom_fields, self.cleaned_data)}

    def clean_tags(self) -> list[str]:
        tags = [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]
        if any(len(t) > 50 for t in tags):
            raise ValidationError(_("A tag has at most 50 characters."))
        return tags


class TrackForm(forms.Form):
    reference = forms.CharField(label=_("Tracking code"), max_length=20)
    email = forms.EmailField(label=_("Email"), max_length=254)


class CustomerProfileForm(forms.Form):
    """A manager's edit of a customer on the desk: organisation (by name, with the
    queue filter's suggestions; the hidden id says which one was picked), VIP, and
    whether they read their organisation's tickets."""

    organisation = forms.IntegerField(required=False, widget=forms.HiddenInput)
    organisation_name = forms.CharField(
        label=_("Organisation"), required=False, max_length=150,
        widget=forms.TextInput(attrs={"dir": "auto", "autocomplete": "off"}),
        help_text=_("Empty: no organisation."),
    )  # fmt: skip
    is_vip = forms.BooleanField(label=_("VIP"), required=False)
    sees_organisation_tickets = forms.BooleanField(
        label=_("Sees the organisation's tickets"), required=False
    )

    def clean(self):
        from helpdesk import selectors
        from helpdesk.models import Organisation

        cleaned = super().clean()
        typed = " ".join((cleaned.get("organisation_name") or "").replace("\x00", " ").split())
        picked = cleaned.get("organisation")
        chosen = None
        if typed:
            try:
                found = selectors.organisation_resolve(
                    name=typed,
                    picked=selectors.organisation_get(organisation_id=picked) if picked else None,
                )
            except ValidationError as error:
                self.add_error("organisation_name", error)
                return cleaned
            chosen = Organisation.objects.get(pk=found[0])
        cleaned["organisation_object"] = chosen
        return cleaned
