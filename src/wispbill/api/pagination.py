"""Paging of every API list: `?limit=&offset=`, with a cap so one request cannot ask for all."""

from rest_framework import pagination

MAX_LIMIT = 500


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """`{"count", "next", "previous", "results"}`; a larger `limit` gets MAX_LIMIT rows."""

    max_limit = MAX_LIMIT
