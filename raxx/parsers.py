"""Request parsers: DRF's, refusing what must never reach a view (400, never a 500)."""

import re

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

# NUL and lone surrogates ("\ud800"): valid in a JSON string, refused by PostgreSQL
# (text and jsonb) and by UTF-8 encoders. Refused in any string of any body, keys included.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "Text must not contain NUL characters or unpaired surrogates (\\u0000, \\ud800-\\udfff)."


def has_unstorable_text(value) -> bool:
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(has_unstorable_text(k) or has_unstorable_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_unstorable_text(v) for v in value)
    return False


def _refuse_unstorable(data):
    """A 400 naming the top-level field that holds the text (``non_field_errors`` for a key or a non-object)."""
    if not has_unstorable_text(data):
        return data
    field = "non_field_errors"
    if isinstance(data, dict):
        field = next((k for k, v in data.items() if has_unstorable_text(v) and not has_unstorable_text(k)), field)
    raise ValidationError({field: [UNSTORABLE_MESSAGE]})


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, with absurdly deep nesting (``[[[[…]]]]``) a 400 instead of a RecursionError (500),
    and text the database cannot store a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return _refuse_unstorable(super().parse(stream, media_type, parser_context))
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.")


class SafeFormParser(FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _refuse_unstorable({k: data.getlist(k) for k in data})
        return data


class SafeMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        _refuse_unstorable({k: parsed.data.getlist(k) for k in parsed.data})
        return parsed
