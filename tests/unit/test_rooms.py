"""Rooms that hold what their names say: each company setting is declared in the mixin of the
app that owns its rule, and the notice page a client sees is served by the portal."""

from django.urls import resolve

from wispbill.core.models import CompanySettings

# The app that owns each group of the company's settings (core.models' mixins).
OWNERS = {
    "CompanyFields": "core",
    "CompanyRunFields": "automation",
    "CompanyCutFields": "billing",
    "CompanyInvoiceFields": "billing",
    "CompanyPaymentFields": "payments",
    "CompanyCfdiFields": "cfdi",
    "CompanyNetworkFields": "network",
    "CompanyMessagingFields": "messaging",
    "CompanyPortalFields": "portal",
}


def test_every_company_setting_sits_in_its_owners_mixin():
    mixins = [base for base in CompanySettings.__bases__ if base.__name__ != "Model"]
    assert [m.__name__ for m in mixins] == list(OWNERS)
    declared = {}
    for mixin in mixins:
        assert mixin._meta.abstract and mixin.__doc__.startswith(OWNERS[mixin.__name__] + ":")
        for field in mixin._meta.local_fields:
            assert field.name not in declared, f"{field.name} in two groups"
            declared[field.name] = mixin.__name__
    # A field written into CompanySettings itself, outside any group, fails here.
    columns = {f.name for f in CompanySettings._meta.concrete_fields} - {"id"}
    assert columns == set(declared)


def test_the_notice_page_is_the_portals():
    assert resolve("/aviso/").func.__module__ == "wispbill.portal.notice"
    notice_port = resolve("/any/path", urlconf="wispbill.portal.notice_urls")
    assert notice_port.func.__module__ == "wispbill.portal.notice"
    preview = resolve("/clients/1/notice/")
    assert preview.view_name == "panel:client-notice-preview"
