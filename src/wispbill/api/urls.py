from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from wispbill.api import messaging, views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("plans", views.PlanViewSet, basename="plan")
router.register("routers", views.RouterViewSet, basename="router")
router.register("zones", views.ZoneViewSet, basename="zone")
router.register("clients", views.ClientViewSet, basename="client")
router.register("periodic-tasks/mass-updates", views.MassUpdateViewSet, basename="mass-update")
router.register("invoices", views.InvoiceViewSet, basename="invoice")
router.register("payments", views.PaymentViewSet, basename="payment")
router.register("staff", views.StaffViewSet, basename="staff")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")
router.register("messages", messaging.MessageViewSet, basename="message")

urlpatterns = [
    path("periodic-tasks/", views.PeriodicTaskListView.as_view(), name="periodic-tasks"),
    path("periodic-tasks/run/", views.PeriodicTaskRunView.as_view(), name="periodic-tasks-run"),
    path("periodic-tasks/mass-update/", views.MassUpdateView.as_view(), name="mass-update"),
    re_path(
        r"^invoices/(?P<pk>[0-9]{1,18})/pdf/$",
        messaging.InvoicePdfView.as_view(),
        name="invoice-pdf",
    ),
    re_path(
        r"^payments/(?P<pk>[0-9]{1,18})/receipt/$",
        messaging.PaymentReceiptView.as_view(),
        name="payment-receipt",
    ),
    re_path(
        r"^clients/(?P<pk>[0-9]{1,18})/portal-link/$",
        messaging.PortalLinkView.as_view(),
        name="portal-link",
    ),
    *router.urls,
]
