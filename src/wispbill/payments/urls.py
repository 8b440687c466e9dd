from django.urls import path

from wispbill.payments import webhooks

urlpatterns = [
    path("mercadopago/", webhooks.mercadopago_webhook, name="webhook-mercadopago"),
    path("stripe/", webhooks.stripe_webhook, name="webhook-stripe"),
]
