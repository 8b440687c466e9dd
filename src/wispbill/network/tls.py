"""Pinned router certificates. RouterOS serves the API over TLS with a self-signed certificate,
so no authority can vouch for it: the operator pins its SHA-256 fingerprint instead, as
`/certificate print` or `openssl x509 -fingerprint -sha256` shows it."""

import re

_SEPARATORS = re.compile(r"[\s:]")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def normalise_fingerprint(text: str) -> str:
    """A SHA-256 fingerprint as lowercase hex without separators, from hex written in either
    case with or without colons; `""` stays `""` (nothing pinned). ValueError otherwise."""
    compact = _SEPARATORS.sub("", text or "").lower()
    if compact and not _SHA256.fullmatch(compact):
        raise ValueError("a SHA-256 fingerprint is 64 hexadecimal digits, with or without colons")
    return compact
