from django import forms
from django.utils.translation import gettext_lazy as _

from wispbill.staff.permissions import CODENAMES


class StaffForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("Password"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    is_admin = forms.BooleanField(label=_("Administrator (holds every permission)"), required=False)
    is_active = forms.BooleanField(label=_("Active (can log in)"), required=False, initial=True)
    permissions = forms.MultipleChoiceField(
        label=_("Permissions"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(code, label) for code, label in CODENAMES.items()],
    )

    def __init__(self, *args, editing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["username"].disabled = True
            self.fields["password"].help_text = _("Leave empty to keep the current password.")
        else:
            self.fields["password"].required = True
