from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from wispbill.api.views import (
    audit,
    automation,
    billing,
    cfdi,
    clients,
    messaging,
    network,
    payments,
    radius,
    staff,
)

ID = r"(?P<pk>[0-9]{1,18})"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("plans", clients.PlanViewSet, basename="plan")
router.register("routers", network.RouterViewSet, basename="router")
router.register("zones", network.ZoneViewSet, basename="zone")
router.register("clients", clients.ClientViewSet, basename="client")
router.register("periodic-tasks/mass-updates", automation.MassUpdateViewSet, basename="mass-update")
router.register("invoices", billing.InvoiceViewSet, basename="invoice")
router.register("payments", billing.PaymentViewSet, basename="payment")
router.register("charges", billing.ChargeViewSet, basename="charge")
router.register("staff", staff.StaffViewSet, basename="staff")
router.register("audit-events", audit.AuditEventViewSet, basename="audit-event")
router.register("messages", messaging.MessageViewSet, basename="message")
router.register("bank-lines", payments.BankLineViewSet, basename="bank-line")
router.register("sessions", radius.SessionViewSet, basename="session")
router.register("cfdi", cfdi.CfdiViewSet, basename="cfdi")

urlpatterns = [
    path("periodic-tasks/", automation.PeriodicTaskListView.as_view(), name="periodic-tasks"),
    path(
        "periodic-tasks/run/", automation.PeriodicTaskRunView.as_view(), name="periodic-tasks-run"
    ),
    path("periodic-tasks/mass-update/", automation.MassUpdateView.as_view(), name="mass-update"),
    path("company/", automation.CompanyView.as_view(), name="company"),
    path("company/csd/", cfdi.CsdView.as_view(), name="company-csd"),
    path("bank-statements/", payments.BankStatementView.as_view(), name="bank-statements"),
    re_path(rf"^invoices/{ID}/pdf/$", messaging.InvoicePdfView.as_view(), name="invoice-pdf"),
    re_path(rf"^invoices/{ID}/cfdi/$", cfdi.InvoiceCfdiView.as_view(), name="invoice-cfdi"),
    re_path(rf"^payments/{ID}/cfdi/$", cfdi.PaymentCfdiView.as_view(), name="payment-cfdi"),
    re_path(
        rf"^invoices/{ID}/cfdi/pdf/$", cfdi.InvoiceCfdiPdfView.as_view(), name="invoice-cfdi-pdf"
    ),
    re_path(
        rf"^payments/{ID}/cfdi/pdf/$", cfdi.PaymentCfdiPdfView.as_view(), name="payment-cfdi-pdf"
    ),
    re_path(rf"^cfdi/{ID}/xml/$", cfdi.CfdiXmlView.as_view(), name="cfdi-xml"),
    re_path(rf"^cfdi/{ID}/pdf/$", cfdi.CfdiPdfView.as_view(), name="cfdi-pdf"),
    re_path(
        rf"^payments/{ID}/receipt/$",
        messaging.PaymentReceiptView.as_view(),
        name="payment-receipt",
    ),
    re_path(
        rf"^clients/{ID}/portal-link/$", messaging.PortalLinkView.as_view(), name="portal-link"
    ),
    re_path(
        rf"^clients/{ID}/payment-link/$", payments.PaymentLinkView.as_view(), name="payment-link"
    ),
    re_path(
        rf"^clients/{ID}/portal-link/revoke/$",
        messaging.PortalLinkRevokeView.as_view(),
        name="portal-link-revoke",
    ),
    *router.urls,
]
