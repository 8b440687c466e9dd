from django import template
from django.urls import reverse

from wispbill.messaging.links import portal_token

register = template.Library()


@register.simple_tag
def portal_path(client) -> str:
    """A fresh signed link to the client's page, relative: on the notice port it stays on the
    host and port the client's router lets it reach."""
    token, _expires = portal_token(client.pk, revision=client.portal_links_revision)
    return reverse("portal:page", args=[token])
