"""What the notice port serves: the client's own page, and the notice page at every other
path (a cut client's browser may ask for any address)."""

from django.urls import include, path, re_path

from wispbill.portal.notice import notice_page

urlpatterns = [
    path("portal/", include("wispbill.portal.urls")),
    re_path(r"", notice_page),
]
