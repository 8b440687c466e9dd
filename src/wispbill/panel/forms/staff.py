from django import forms
from django.utils.translation import gettext_lazy as _

from wispbill.staff.permissions import CODENAMES, DEFAULT_PERMISSIONS, ROLES


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
        initial=list(DEFAULT_PERMISSIONS),
    )
    # A role button: its permissions (and for the administrator, the admin flag) replace the
    # checkboxes, in one click.
    role = forms.ChoiceField(
        required=False, choices=[(key, label) for key, (label, _codes, _admin) in ROLES.items()]
    )

    def role_values(self) -> dict:
        """The admin flag and permissions to save: the role's, when a role was chosen."""
        data = self.cleaned_data
        if not data.get("role"):
            return {"is_admin": data["is_admin"], "permissions": data["permissions"]}
        _label, codenames, is_admin = ROLES[data["role"]]
        return {"is_admin": is_admin, "permissions": list(codenames)}

    def __init__(self, *args, editing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["username"].disabled = True
            self.fields["password"].help_text = _("Leave empty to keep the current password.")
        else:
            self.fields["password"].required = True
