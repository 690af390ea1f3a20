from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tenants.provisioning import slug_check_available
from tenants.validation import SLUG_MAX, normalise_slug


class SignupForm(forms.Form):
    organisation = forms.CharField(label=_("Organisation name"), max_length=100)
    subdomain = forms.CharField(
        label=_("Subdomain"),
        max_length=SLUG_MAX,
        help_text=_("Lowercase letters, digits and hyphens."),
    )
    owner_name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(label=_("Email"), max_length=254)
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(render_value=False)
    )

    def clean_organisation(self) -> str:
        value = self.cleaned_data["organisation"].strip()
        if not value:
            raise ValidationError(_("Enter your organisation's name."), code="required")
        return value

    def clean_subdomain(self) -> str:
        value = normalise_slug(self.cleaned_data["subdomain"])
        slug_check_available(value)
        return value

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            from accounts.models import User

            probe = User(email=cleaned.get("email", ""), name=cleaned.get("owner_name", ""))
            try:
                password_validation.validate_password(password, user=probe)
            except ValidationError as error:
                self.add_error("password", error)
        return cleaned
