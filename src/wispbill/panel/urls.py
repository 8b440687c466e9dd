from django.urls import path, register_converter
from django.views.generic import RedirectView

from wispbill.core.db import IdConverter
from wispbill.panel.views import audit as audit
from wispbill.panel.views import automation as automation
from wispbill.panel.views import billing as billing
from wispbill.panel.views import cfdi as cfdi
from wispbill.panel.views import clients as clients
from wispbill.panel.views import home as panel
from wispbill.panel.views import imports as imports
from wispbill.panel.views import messaging as messaging
from wispbill.panel.views import network as network
from wispbill.panel.views import payments as bank
from wispbill.panel.views import staff as staff

register_converter(IdConverter, "id")
app_name = "panel"
# The addresses operators know from the product that inspired the feature lead to ours.
SPANISH_ALIASES = [
    ("clientes/", "panel:client-list"),
    ("router/", "panel:router-list"),
    ("acciones-masivas/activar-tareas-periodicas/", "panel:mass-periodic-tasks"),
    ("tareas-periodicas/", "panel:periodic-tasks"),
    ("facturas/", "panel:invoice-list"),
    ("mensajes/", "panel:message-list"),
    ("pagos/", "panel:payment-list"),
    ("corte-de-caja/", "panel:cash-report"),
    ("conciliacion-bancaria/", "panel:bank-lines"),
    ("facturacion-electronica/", "panel:cfdi-list"),
]

urlpatterns = [
    *(path(alias, RedirectView.as_view(pattern_name=target)) for alias, target in SPANISH_ALIASES),
    path("", panel.home, name="home"),
    path("clients/", clients.client_list, name="client-list"),
    path("clients/new/", clients.client_edit, name="client-new"),
    path("clients/import/", imports.clients_import, name="client-import"),
    path(
        "clients/import/template.<slug:extension>",
        imports.clients_import_template,
        name="client-import-template",
    ),
    path("clients/<id:pk>/", clients.client_edit, name="client-edit"),
    path("clients/<id:pk>/actions/<slug:action>/", clients.client_action, name="client-action"),
    path("clients/<id:pk>/invoice/", clients.invoice_preview, name="client-invoice-preview"),
    path("clients/<id:pk>/notice/", clients.notice_preview, name="client-notice-preview"),
    path("clients/<id:client_pk>/payments/", billing.payment_create, name="payment-create"),
    path("invoices/", billing.invoice_list, name="invoice-list"),
    path("invoices/<id:pk>/", billing.invoice_page, name="invoice-page"),
    path("invoices/<id:pk>/pdf/", billing.invoice_pdf_download, name="invoice-pdf"),
    path("invoices/<id:pk>/cancel/", billing.invoice_cancel, name="invoice-cancel"),
    path("payments/<id:pk>/", billing.receipt_page, name="receipt-page"),
    path("payments/<id:pk>/receipt/", billing.receipt_pdf_download, name="receipt-pdf"),
    path("payments/<id:pk>/void/", billing.payment_void_page, name="payment-void"),
    path("messages/", messaging.message_list_page, name="message-list"),
    path("messages/<id:pk>/resend/", messaging.message_resend_view, name="message-resend"),
    path("clients/<id:pk>/channels/", messaging.client_channels, name="client-channels"),
    path("clients/<id:pk>/portal-link/", messaging.client_portal_link, name="client-portal-link"),
    path("clients/<id:pk>/payment-link/", bank.client_payment_link, name="client-payment-link"),
    path(
        "clients/<id:pk>/portal-link/revoke/",
        messaging.client_portal_links_revoke,
        name="client-portal-links-revoke",
    ),
    path("payments/", billing.payment_list, name="payment-list"),
    path("payments/cash-report/", billing.cash_report, name="cash-report"),
    path("payments/bank/", bank.bank_line_list, name="bank-lines"),
    path("payments/bank/import/", bank.bank_statement_upload, name="bank-statement"),
    path("payments/bank/<id:pk>/assign/", bank.bank_line_assign_page, name="bank-line-assign"),
    path("e-invoicing/", cfdi.cfdi_list_page, name="cfdi-list"),
    path("e-invoicing/csd/", cfdi.csd_page, name="cfdi-csd"),
    path("e-invoicing/<id:pk>/retry/", cfdi.cfdi_retry, name="cfdi-retry"),
    path("e-invoicing/<id:pk>/replace/", cfdi.cfdi_replace_view, name="cfdi-replace"),
    path("e-invoicing/<id:pk>/xml/", cfdi.cfdi_xml_download, name="cfdi-xml"),
    path("e-invoicing/<id:pk>/pdf/", cfdi.cfdi_pdf_download, name="cfdi-pdf"),
    path("periodic-tasks/", automation.periodic_tasks, name="periodic-tasks"),
    path("periodic-tasks/run/", automation.run_now, name="run-now"),
    path("periodic-tasks/runs/<id:pk>/", automation.run_detail, name="run-detail"),
    path("periodic-tasks/runs/<id:pk>/status/", automation.run_status, name="run-status"),
    path("periodic-tasks/forecast/", automation.forecast, name="forecast"),
    path("settings/", automation.company_settings, name="company-settings"),
    path("plans/", clients.plan_list, name="plan-list"),
    path("plans/new/", clients.plan_edit, name="plan-new"),
    path("plans/<id:pk>/", clients.plan_edit, name="plan-edit"),
    path("routers/", network.router_list, name="router-list"),
    path("routers/new/", network.router_edit, name="router-new"),
    path("routers/<id:pk>/", network.router_edit, name="router-edit"),
    path("routers/<id:pk>/sync/", network.router_sync_now, name="router-sync"),
    path("routers/<id:pk>/test/", network.router_test, name="router-test"),
    path("routers/<id:pk>/rules/", network.router_rules, name="router-rules"),
    path("routers/<id:pk>/radius/", network.router_radius, name="router-radius"),
    path("routers/<id:pk>/import/", imports.router_import, name="router-import"),
    path("routers/<id:router_pk>/zones/new/", network.zone_create, name="zone-new"),
    path("zones/<id:pk>/", network.zone_update, name="zone-update"),
    path("zones/<id:pk>/delete/", network.zone_delete, name="zone-delete"),
    path(
        "mass-actions/periodic-tasks/", automation.mass_periodic_tasks, name="mass-periodic-tasks"
    ),
    path("mass-actions/history/", automation.mass_update_list, name="mass-update-list"),
    path("mass-actions/history/<id:pk>/", automation.mass_update_detail, name="mass-update-detail"),
    path(
        "mass-actions/history/<id:pk>/undo/", automation.mass_update_undo, name="mass-update-undo"
    ),
    path("staff/", staff.staff_list, name="staff-list"),
    path("staff/new/", staff.staff_edit, name="staff-new"),
    path("staff/<id:pk>/", staff.staff_edit, name="staff-edit"),
    path("staff/<id:pk>/unlock/", staff.login_unlock, name="staff-unlock"),
    path("staff/<id:pk>/api-keys/", staff.api_key_new, name="api-key-new"),
    path("staff/<id:pk>/api-keys/<id:key_pk>/revoke/", staff.api_key_revoke, name="api-key-revoke"),
    path("audit/", audit.audit_list, name="audit-list"),
]
