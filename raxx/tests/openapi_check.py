"""Every JSON response a test receives is checked against the OpenAPI schema (CONTRACTS §11).

The root ``conftest.py`` wraps ``django.test.Client.request`` (DRF's ``APIClient`` goes
through it too) for every test: the response of an ``/api`` route or ``/healthz`` must be
JSON, its status must be documented for the operation, and its body must match the
declared schema (``jsonschema``, Draft 2020-12 = OpenAPI 3.1). So a field added, renamed
or typed differently fails the test that produced it.

- A path or method the schema does not know answers an error: its body must be an ``Error``.
  A 2xx there is an undocumented operation and fails.
- ``@pytest.mark.schema_unchecked`` (a test whose *request* is deliberately outside the
  schema): a documented status is still checked in full; an undocumented error status is
  checked against the ``Error`` component; an undocumented 2xx still fails.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_URI = "urn:raxx:openapi"
# Routes outside the contract: the schema and its docs page, and test-only probe views.
UNCHECKED_PREFIXES = ("/api/schema", "/api/docs", "/api/probe/")
_DATE_TIME_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")

FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time")
def _date_time(value) -> bool:
    """CONTRACTS §0: ISO-8601 UTC with ``Z``."""
    return not isinstance(value, str) or bool(_DATE_TIME_Z.match(value))


@FORMATS.checks("decimal", raises=InvalidOperation)
def _decimal(value) -> bool:
    return not isinstance(value, str) or Decimal(value).is_finite()


def generated_schema() -> dict:
    """The schema as ``/api/schema`` serves it, as plain JSON data."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(schema, default=str))


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


class ContractViolation(AssertionError):
    pass


class Contract:
    def __init__(self, schema: dict):
        self.schema = schema
        self.registry = Registry().with_resource(SCHEMA_URI, Resource(contents=schema, specification=DRAFT202012))
        # Literal paths before templated ones: /sentiment-labels/taxonomy is not /sentiment-labels/{id}.
        templates = sorted(schema["paths"], key=lambda p: (p.count("{"), p))
        self.routes = [(re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(p)) + "$"), p)
                       for p in templates]
        self._validators: dict[str, jsonschema.Draft202012Validator] = {}

    def validator(self, pointer: str) -> jsonschema.Draft202012Validator:
        if pointer not in self._validators:
            self._validators[pointer] = jsonschema.Draft202012Validator(
                {"$ref": f"{SCHEMA_URI}#/{pointer}"}, registry=self.registry, format_checker=FORMATS)
        return self._validators[pointer]

    def operation(self, method: str, path: str) -> tuple[str | None, dict | None]:
        for pattern, template in self.routes:
            if pattern.match(path):
                return template, self.schema["paths"][template].get(method.lower())
        return None, None

    def check(self, *, method: str, path: str, status: int, content_type: str, content: bytes, headers=None,
              lenient: bool = False) -> None:
        """Raise ContractViolation when this response is not what the schema promises."""
        if not (path.startswith("/api/") or path == "/healthz") or path.startswith(UNCHECKED_PREFIXES):
            return
        if method.upper() in ("HEAD", "OPTIONS"):
            return
        where = f"{method.upper()} {path} → {status}"
        if not content_type.startswith("application/json"):
            raise ContractViolation(f"{where}: not JSON ({content_type or 'no content type'})")
        try:
            body = json.loads(content)
        except ValueError as exc:
            raise ContractViolation(f"{where}: the body is not valid JSON ({exc})") from None
        template, operation = self.operation(method, path)
        if operation is None:
            if status < 400:
                raise ContractViolation(f"{where}: an undocumented operation answered {status}")
            return self._validate(_pointer("components", "schemas", "Error"), body, where)
        response = operation["responses"].get(str(status))
        if response is None:
            if lenient and status >= 300:  # a refusal or a redirect of a request outside the schema
                return self._validate(_pointer("components", "schemas", "Error"), body, where)
            raise ContractViolation(f"{where}: status {status} is not documented for {method.upper()} {template} "
                                    f"(documented: {', '.join(operation['responses'])})")
        for name, spec in response.get("headers", {}).items():
            if spec.get("required") and headers is not None and name not in headers:
                raise ContractViolation(f"{where}: the required header {name} is missing")
        self._validate(_pointer("paths", template, method.lower(), "responses", str(status), "content",
                                "application/json", "schema"), body, where)

    def _validate(self, pointer: str, body, where: str) -> None:
        error = jsonschema.exceptions.best_match(self.validator(pointer).iter_errors(body))
        if error is not None:
            location = "/".join(map(str, error.absolute_path)) or "(body)"
            raise ContractViolation(f"{where}: the body does not match the schema at {location}: {error.message}\n"
                                    f"body: {json.dumps(body)[:2000]}")


@lru_cache(maxsize=1)
def contract() -> Contract:
    """Generated once per test session."""
    return Contract(generated_schema())


def checking_request(original, *, lenient: bool):
    """A ``Client.request`` that checks every response it returns."""

    def request(self, **environ):
        response = original(self, **environ)
        if getattr(response, "streaming", False):  # a streamed download is no API body
            return response
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        contract().check(method=method, path=path, status=response.status_code,
                         content_type=response.get("Content-Type", ""), content=response.content,
                         headers=response.headers, lenient=lenient)
        return response

    return request
