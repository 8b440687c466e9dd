"""The API's JSON parser: bad JSON is a 400 in the user's language, never a 500."""

import codecs
from collections.abc import Iterable
from json import JSONDecodeError
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

# No request of ours nests deeper than a few levels; a body nested deeper than this is refused
# before anything walks it (Python would run out of stack a little past 900).
MAX_DEPTH = 32


class JSONParser(parsers.JSONParser):
    """JSON bodies (a DRF JSONParser, so DRF still caps the body's size before parsing)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            data = json.load(codecs.getreader(encoding)(stream))
        except RecursionError as exc:
            raise ParseError(too_deep()) from exc
        except JSONDecodeError as exc:
            raise ParseError(
                _("The body is not valid JSON (line %(line)s, column %(column)s).")
                % {"line": exc.lineno, "column": exc.colno}
            ) from exc
        except ValueError as exc:  # bad encoding, NaN or Infinity
            raise ParseError(_("The body is not valid JSON.")) from exc
        if _deeper_than(data, MAX_DEPTH):
            raise ParseError(too_deep())
        return data


def too_deep() -> str:
    return _("The JSON is nested too deeply (at most %(depth)s levels).") % {"depth": MAX_DEPTH}


def _deeper_than(value, limit: int) -> bool:
    """Whether lists and objects nest more than limit levels (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
