from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from wispbill.api.schema import SchemaView
from wispbill.panel.views.staff import PasswordChange
from wispbill.portal.notice import notice_page

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="panel/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", PasswordChange.as_view(), name="password-change"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("aviso/", notice_page, name="notice"),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="panel/api_docs.html"),
        name="api-docs",
    ),
    path("api/v1/", include("wispbill.api.urls")),
    path("portal/", include("wispbill.portal.urls")),
    # The gateways' notifications: signed by them, no session, no CSRF token.
    path("webhooks/", include("wispbill.payments.urls")),
    path("", include("wispbill.panel.urls")),
]

handler403 = "wispbill.panel.views.errors.permission_denied"
handler404 = "wispbill.panel.views.errors.not_found"
handler500 = "wispbill.panel.views.errors.server_error"
