"""The company's CSD as the panel takes it: two files and a password."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from wispbill.cfdi.csd import MAX_BYTES

TOO_BIG = _("Upload the CSD's file as SAT gave it (at most 32 KB).")


def _file_input(accept: str) -> forms.ClearableFileInput:
    """A CSD file's input, which the browser refuses beyond the size the server takes."""
    return forms.ClearableFileInput(
        attrs={"accept": accept, "data-max-bytes": MAX_BYTES, "data-too-big": TOO_BIG}
    )


class CsdForm(forms.Form):
    certificate = forms.FileField(label=_("Certificate (.cer)"), widget=_file_input(".cer"))
    private_key = forms.FileField(label=_("Private key (.key)"), widget=_file_input(".key"))
    password = forms.CharField(
        label=_("Private key password"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def _bounded(self, name: str) -> bytes:
        """The file's bytes, refused by its size before anything is read."""
        upload = self.cleaned_data[name]
        if upload.size > MAX_BYTES:
            raise ValidationError(TOO_BIG)
        return upload.read(MAX_BYTES + 1)

    def clean_certificate(self) -> bytes:
        return self._bounded("certificate")

    def clean_private_key(self) -> bytes:
        return self._bounded("private_key")
