"""One rule for every decimal the API accepts (issue 11 defect 9).

A decimal arrives as a JSON number or as a string written in ASCII: an optional
sign, digits with an optional point, an optional exponent, and nothing around it.
Python's ``Decimal`` (and DRF's ``DecimalField``, which strips its input) would
also take "١٢٣" (Arabic-Indic digits) or " 12 ": those are refused, so a value is
stored only when it was written the way every client and report reads it.
"""

import re
from decimal import Decimal, InvalidOperation

from rest_framework import serializers

DECIMAL_PATTERN = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN.replace("^", r"\A", 1).removesuffix("$") + r"\Z", re.ASCII)


def is_decimal_text(text: str) -> bool:
    return bool(_DECIMAL_RE.match(text))


def parse_decimal(value) -> Decimal | None:
    """A JSON number or an ASCII decimal string as a Decimal; None for anything else (bools included)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if isinstance(value, str) and not is_decimal_text(value):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


class StrictDecimalField(serializers.DecimalField):
    """DRF's DecimalField, refusing booleans, non-ASCII digits and surrounding spaces."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, str) and not is_decimal_text(data)):
            self.fail("invalid")
        return super().to_internal_value(data)
