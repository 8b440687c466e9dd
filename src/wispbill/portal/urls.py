from django.urls import path, register_converter

from wispbill.core.db import IdConverter
from wispbill.portal import views

app_name = "portal"

register_converter(IdConverter, "portal_id")

urlpatterns = [
    path("<str:token>/", views.page, name="page"),
    path("<str:token>/pay/", views.pay_page, name="pay-page"),
    path("<str:token>/pay/<str:provider>/", views.pay_online, name="pay"),
    path("<str:token>/invoices/<portal_id:pk>/pdf/", views.invoice_document, name="invoice-pdf"),
    path(
        "<str:token>/payments/<portal_id:pk>/receipt/", views.receipt_document, name="receipt-pdf"
    ),
    path("<str:token>/cfdi/<portal_id:pk>/<str:fmt>/", views.cfdi_file, name="cfdi"),
]
