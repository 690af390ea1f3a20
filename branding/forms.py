from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm


class DomainForm(forms.Form):
    domain = forms.CharField(
        label=_("Domain"),
        max_length=253,
        help_text=_("A host name your organisation owns, for example help.example.com."),
        widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off", "spellcheck": "false"}),
    )


class BrandSettingsForm(WagtailAdminModelForm):
    """The brand's admin form: a colour of the wrong length gets the format explained,
    not only "at most 7 characters"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("primary_colour", "accent_colour"):
            field = self.fields[name]
            field.max_length = None
            field.validators = [
                v for v in field.validators if not isinstance(v, MaxLengthValidator)
            ]
            field.widget.attrs.pop("maxlength", None)
            field.widget.attrs.update({"dir": "ltr", "placeholder": "#2454c5", "size": 9})
