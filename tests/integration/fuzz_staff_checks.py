"""Schemathesis hooks for the staff pass of test_api_fuzz.py (loaded through
SCHEMATHESIS_HOOKS): a staff key may be refused, never answered otherwise."""

import schemathesis

ALLOWED = {400, 403, 404}


@schemathesis.check
def staff_is_allowed_or_refused(ctx, response, case):
    """Every answer to staff is 2xx, 400, 403 or 404."""
    if not (200 <= response.status_code < 300 or response.status_code in ALLOWED):
        raise AssertionError(
            f"{case.method} {case.path} answered {response.status_code} to a staff key"
        )
