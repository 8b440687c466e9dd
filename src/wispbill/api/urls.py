from django.urls import path
from rest_framework.routers import DefaultRouter

from wispbill.api.views import audit, automation, billing, clients, network, staff

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("plans", clients.PlanViewSet, basename="plan")
router.register("routers", network.RouterViewSet, basename="router")
router.register("zones", network.ZoneViewSet, basename="zone")
router.register("clients", clients.ClientViewSet, basename="client")
router.register("periodic-tasks/mass-updates", automation.MassUpdateViewSet, basename="mass-update")
router.register("invoices", billing.InvoiceViewSet, basename="invoice")
router.register("payments", billing.PaymentViewSet, basename="payment")
router.register("staff", staff.StaffViewSet, basename="staff")
router.register("audit-events", audit.AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("periodic-tasks/", automation.PeriodicTaskListView.as_view(), name="periodic-tasks"),
    path(
        "periodic-tasks/run/", automation.PeriodicTaskRunView.as_view(), name="periodic-tasks-run"
    ),
    path("periodic-tasks/mass-update/", automation.MassUpdateView.as_view(), name="mass-update"),
    path("company/", automation.CompanyView.as_view(), name="company"),
    *router.urls,
]
