"""Password rules of our own, beside Django's (settings.AUTH_PASSWORD_VALIDATORS)."""

import re
from difflib import SequenceMatcher

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PRODUCT_NAME = "wispbill"


class ProductNameValidator:
    """Refuses a password that is, holds or resembles the product's name ("Wispbill2026",
    "w1spb1ll"): it is the first word anyone guessing an ISP's billing password tries."""

    max_similarity = 0.7

    def validate(self, password: str, user=None) -> None:
        folded = re.sub(r"[^a-z0-9]", "", password.lower())
        # Digits that stand for letters are read as the letters.
        letters = folded.translate(str.maketrans("01345", "oieas"))
        similarity = SequenceMatcher(a=letters, b=PRODUCT_NAME).ratio()
        if PRODUCT_NAME in letters or similarity >= self.max_similarity:
            raise ValidationError(
                _("The password is too similar to the product's name."),
                code="password_too_similar",
            )

    def get_help_text(self) -> str:
        return _("Your password can't be similar to the product's name.")
