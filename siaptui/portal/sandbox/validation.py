"""Read a request body and hold it to the contract: JSON, not too big, not too deep, and valid
against the operation's schema in portal-api.yaml — before any handler looks at it.

Why validate against the document itself instead of hand-written checks per handler: the sandbox
is the contract's reference implementation, so it must refuse exactly what the document forbids
(ranges, lengths, formats, enumerations), and one validator driven by the document cannot drift
from it.  Four things JSON Schema leaves loose are made strict here:

* `format: date-time` is RFC 3339 with a zone (`Z` or `±hh:mm`) whose instant exists in UTC —
  jsonschema checks no date-time at all without an optional package, and Python's
  `fromisoformat` takes ISO week dates and zone-less times;
* `pattern` uses ECMA-262's `$` (end of text), not Python's (which also matches before a final
  newline);
* `integer` means a JSON number written without a fraction (`2`, not `2.0`), as the models read it;
* `format: iso19794-2` (our own format) decodes the base64 and reads the record with the
  engine's ISO/IEC 19794-2 reader, then checks what the reader leaves to the caller: width and
  height above 0, at least one minutia a view, every minutia inside the declared image.

Depth is measured on the raw bytes before parsing, so 100,000 nested `[` are refused in linear
time instead of exhausting the parser's recursion.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from functools import cache, lru_cache
from itertools import accumulate
from typing import Any, Dict, Iterator, Tuple

from siaptui.portal import OPENAPI_PATH
from siaptui.portal.models import b64decode
from siaptui.portal.sandbox.problems import BodyRejected

MAX_DEPTH = 32
"""Deepest nesting of arrays and objects a body may have (the contract's bodies need 4)."""

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"?', re.DOTALL)
"""A JSON string, or an unterminated one up to the end: `sub` scans left to right, never
backtracking past a match, so stripping strings is linear even on hostile input."""
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1

_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))")


def json_depth(raw: bytes) -> int:
    """Deepest bracket nesting outside strings (a well-formed document's real depth)."""
    brackets = _STRING.sub(b"", raw).translate(None, _BRACKETS)
    return max(accumulate(_STEP[b] for b in brackets), default=0)


def is_rfc3339(text: Any) -> bool:
    """An RFC 3339 date-time with a zone, a real calendar date, and a UTC instant in 1–9999."""
    if not isinstance(text, str):
        return True  # format applies to strings only; `type` reports the rest
    parts = _RFC3339.fullmatch(text)
    if parts is None:
        return False
    year, month, day, hour, minute, second = (int(parts.group(i)) for i in range(1, 7))
    try:
        local = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    if parts.group(8) != "Z":
        hours, minutes = int(parts.group(10)), int(parts.group(11))
        if hours > 23 or minutes > 59:
            return False
        offset = timedelta(hours=hours, minutes=minutes)
        try:
            _ = local - offset if parts.group(9) == "+" else local + offset
        except OverflowError:
            return False
    return True


def check_iso_record(raw: bytes) -> None:
    """Refuse an ISO/IEC 19794-2:2005 record the engine could not use; ValueError says why."""
    from siaptui.biometrics.template import TemplateError, from_iso19794_2

    try:
        views = from_iso19794_2(raw)
    except TemplateError as exc:
        raise ValueError(str(exc)) from None
    for number, (position, template) in enumerate(views, start=1):
        if template.width == 0 or template.height == 0:
            raise ValueError(f"la imagen declarada mide {template.width}×{template.height}: "
                             "el ancho y el alto deben ser mayores que 0")
        if not template.minutiae:
            raise ValueError(f"la vista {number} (dedo {position}) no tiene minucias")
        for index, minutia in enumerate(template.minutiae, start=1):
            if minutia.x >= template.width or minutia.y >= template.height:
                raise ValueError(f"la minucia {index} de la vista {number} ({minutia.x:.0f}, {minutia.y:.0f}) "
                                 f"está fuera de la imagen declarada de {template.width}×{template.height}")


def _iso_template(text: Any) -> bool:
    if isinstance(text, str):
        check_iso_record(b64decode(text, "template"))
    return True


def _ecma_pattern(pattern: str) -> str:
    """`pattern` with every `$` outside a character class meaning end of text only."""
    out, escaped, in_class = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            char = r"\Z"
        out.append(char)
    return "".join(out)


@cache
def _compiled(pattern: str) -> "re.Pattern[str]":
    return re.compile(_ecma_pattern(pattern))


def _path_pattern(template: str) -> "re.Pattern[str]":
    """`/v1/enrollments/{enrollment_id}` as a regular expression for request paths."""
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part)
                              for part in re.split(r"(\{[^}]+\})", template)))


class Contract:
    """Request-body validators for every operation of portal-api.yaml, keyed by (METHOD, path)."""

    def __init__(self, document: Dict[str, Any]) -> None:
        from jsonschema import (
            Draft202012Validator,
            FormatChecker,
            ValidationError,
            validators,
        )
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        def pattern(validator: Any, expected: str, instance: Any, schema: Any) -> Iterator[Any]:
            if validator.is_type(instance, "string") and not _compiled(expected).search(instance):
                yield ValidationError(f"{instance[:40]!r} does not match {expected!r}")

        formats = FormatChecker(formats=())
        formats.checks("date-time")(is_rfc3339)
        formats.checks("iso19794-2", raises=ValueError)(_iso_template)
        integers = Draft202012Validator.TYPE_CHECKER.redefine(
            "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool))
        strict = validators.extend(Draft202012Validator, {"pattern": pattern}, type_checker=integers)
        registry = Registry().with_resource("urn:portal",
                                            Resource.from_contents(document, default_specification=DRAFT202012))
        self._validators: Dict[Tuple[str, "re.Pattern[str]"], Any] = {}
        for path, item in document.get("paths", {}).items():
            for method, operation in item.items():
                schema = (operation.get("requestBody", {}).get("content", {})
                          .get("application/json", {}).get("schema")) if isinstance(operation, dict) else None
                if schema is not None:
                    rooted = {"$ref": "urn:portal" + schema["$ref"]} if "$ref" in schema else schema
                    self._validators[(method.upper(), _path_pattern(path))] = strict(
                        rooted, registry=registry, format_checker=formats)

    @classmethod
    @lru_cache(maxsize=1)
    def load(cls) -> "Contract":
        """The contract the sandbox serves, read once per process."""
        import yaml

        return cls(yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8")))

    def check(self, method: str, path: str, data: Any) -> None:
        """BodyRejected (422 invalid_request, with the JSON Pointer) unless `data` is valid for
        the operation at the request's own path (not the router's, which a Mount makes relative)."""
        from jsonschema.exceptions import best_match

        validator = next((v for (m, p), v in self._validators.items() if m == method and p.fullmatch(path)), None)
        if validator is None:
            return
        error = best_match(validator.iter_errors(data))
        if error is not None:
            pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path)
            raise BodyRejected("invalid_request", f"{pointer or 'el cuerpo'}: {_explain(error)}", status=422,
                               field=pointer)


def _explain(error: Any) -> str:
    """The rule that failed, in the portal's language (jsonschema's own messages are English and
    may quote a 100,000-character value)."""
    rule, expected = error.validator, error.validator_value
    if rule == "format" and error.cause is not None:
        return f"plantilla ISO/IEC 19794-2 no válida: {error.cause}"
    if rule == "required":
        missing = [name for name in expected if isinstance(error.instance, dict) and name not in error.instance]
        return "falta el campo obligatorio «" + "», «".join(missing) + "»"
    if rule == "format" and expected == "date-time":
        return "no es una fecha y hora RFC 3339 con zona horaria (p. ej. 2026-03-02T10:00:00Z)"
    if rule == "enum":
        return "valor no admitido (se admite: " + ", ".join(map(str, expected)) + ")"
    texts = {
        "type": "tipo no válido (se espera {})",
        "minimum": "debe ser al menos {}",
        "maximum": "debe ser a lo más {}",
        "exclusiveMinimum": "debe ser mayor que {}",
        "exclusiveMaximum": "debe ser menor que {}",
        "minLength": "debe tener al menos {} caracteres",
        "maxLength": "debe tener a lo más {} caracteres",
        "minItems": "debe tener al menos {} elementos",
        "maxItems": "debe tener a lo más {} elementos",
        "pattern": "no tiene el formato esperado",
        "format": "no es un valor {} válido",
        "additionalProperties": "trae campos que el contrato no admite",
        "oneOf": "no corresponde a ninguna de las formas admitidas",
    }
    text = texts.get(rule)
    return text.format(expected) if text is not None else f"no cumple la regla «{rule}» del contrato"


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} no es JSON")


async def read_json(request: Any, max_bytes: int) -> Tuple[bytes, Dict[str, Any]]:
    """The raw body and its JSON object, refused with a BodyRejected on the first rule it breaks:
    media type, size, UTF-8 and JSON syntax, depth, object, then the operation's schema."""
    from starlette.requests import ClientDisconnect

    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise BodyRejected("unsupported_media_type", f"se esperaba application/json, llegó «{kind[:60] or '-'}»")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyRejected("body_too_large", f"máximo {max_bytes} bytes")
    chunks = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise BodyRejected("body_too_large", f"máximo {max_bytes} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise BodyRejected("malformed_http", "la conexión se cerró antes de terminar el cuerpo") from None
    raw = b"".join(chunks)
    data = parse(raw)
    Contract.load().check(request.method, request.url.path, data)
    return raw, data


def parse(raw: bytes) -> Dict[str, Any]:
    """A JSON object from bytes: strict UTF-8, no NaN/Infinity, no lone surrogates, ≤ MAX_DEPTH."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyRejected("malformed_json", f"el cuerpo no es UTF-8 válido (byte {exc.start})") from None
    depth = json_depth(raw)
    if depth > MAX_DEPTH:
        raise BodyRejected("body_too_deep", f"{depth} niveles anidados; se admiten hasta {MAX_DEPTH}")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise BodyRejected("body_too_deep", f"se admiten hasta {MAX_DEPTH} niveles anidados") from None
    except UnicodeEncodeError:
        raise BodyRejected("malformed_json", "el cuerpo trae un carácter \\u sin par (sustituto suelto)") from None
    except ValueError as exc:
        raise BodyRejected("malformed_json", f"el cuerpo no es JSON válido: {str(exc)[:120]}") from None
    if not isinstance(data, dict):
        raise BodyRejected("invalid_request", "el cuerpo debe ser un objeto JSON", status=422)
    return data
