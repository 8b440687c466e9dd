"""Paging of every API list: `?limit=&offset=`, with a cap so one request cannot ask for all."""

from rest_framework import pagination

from wispbill.core.db import rows_between

MAX_LIMIT = 500


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """`{"count", "next", "previous", "results"}`; a larger `limit` gets MAX_LIMIT rows."""

    max_limit = MAX_LIMIT

    def paginate_queryset(self, queryset, request, view=None):
        """As DRF's, but a deep page is read from the other end (`core.db.rows_between`)."""
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.count = self.get_count(queryset)
        self.offset = self.get_offset(request)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        if self.count == 0 or self.offset > self.count:
            return []
        if not hasattr(queryset, "ordered"):
            return list(queryset[self.offset : self.offset + self.limit])
        return rows_between(queryset, self.offset, self.offset + self.limit, self.count)
