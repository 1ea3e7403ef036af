"""The project's drf-spectacular AutoSchema (``DEFAULT_SCHEMA_CLASS``)."""

from drf_spectacular.openapi import AutoSchema

from .openapi import NO_NUL


class RaxxAutoSchema(AutoSchema):
    """Request schemas as strict as the server (CONTRACTS §11): text without NUL (DRF's
    CharField refuses it) and request objects without keys the server would ignore."""

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request":
            schema["additionalProperties"] = False
            for prop in schema.get("properties", {}).values():
                if _plain_string(prop):
                    prop["pattern"] = NO_NUL
        return schema


def _plain_string(schema: dict) -> bool:
    kind = schema.get("type")
    is_string = kind == "string" or (isinstance(kind, list) and "string" in kind)
    return is_string and not {"pattern", "format", "enum", "$ref", "allOf"} & schema.keys()
