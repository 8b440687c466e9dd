"""The company's settings, read by messaging from this one place.

CompanySettings still lives in automation, a layer above messaging; when it moves down to core,
this import is the only one to change."""

from wispbill.core.models import CompanySettings


def company_settings() -> CompanySettings:
    return CompanySettings.load()
