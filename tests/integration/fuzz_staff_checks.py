"""Schemathesis hooks for the staff pass of test_api_fuzz.py (loaded through
SCHEMATHESIS_HOOKS): a staff key may be refused, never answered otherwise."""

import schemathesis

ALLOWED = {400, 403, 404}


@schemathesis.check
def staff_is_allowed_or_refused(ctx, response, case):
    """Every answer to staff is 2xx, 400, 403 or 404 (or the 422 of an Idempotency-Key sent
    again with another payment)."""
    reused_key = case.path == "/api/v1/payments/" and response.status_code == 422
    if not (200 <= response.status_code < 300 or response.status_code in ALLOWED or reused_key):
        raise AssertionError(
            f"{case.method} {case.path} answered {response.status_code} to a staff key"
        )
