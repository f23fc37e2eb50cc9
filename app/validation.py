"""Checking input against a JSON Schema (Draft 2020-12), one way for every service command, API body and task form.

A command's schema is the same object the API's OpenAPI document publishes for its request body, so what is
published is what is enforced. Errors are keyed by field name (`alerts[0].fingerprint` inside a list, `_form`
for the whole input) and worded for a person, one translation per jsonschema validator kind; jsonschema's own
text never reaches anyone.

One rule JSON Schema cannot say by itself: a value that is null, or text with no visible character, counts as
missing. Required text is declared `{"type": "string", "pattern": NOT_BLANK}` (with maxLength for its limit);
a null or blank value where the schema wants something is reported as "This field is required.". The values
returned have their top-level text stripped, and text left blank is None.
"""

import re
from collections.abc import Iterable, Iterator

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from app.errors import ValidationFailed

# The pattern of required text: at least one character that is not white space.
NOT_BLANK = r"\S"
# A field's key for a problem of the input as a whole.
WHOLE = "_form"
# Control characters that no text a person writes carries (tab, line feed and carriage return excepted);
# PostgreSQL refuses NUL in text, so they are refused on every database alike.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_KINDS = {
    "string": _l("Expected text."),
    "integer": _l("Expected a whole number."),
    "number": _l("Expected a number."),
    "boolean": _l("Expected true or false."),
    "array": _l("Expected a list."),
    "object": _l("Expected an object."),
}


def text(limit: int, *, required: bool = False) -> dict:
    """The schema of a text field of at most limit characters; optional text may also be null."""
    if required:
        return {"type": "string", "pattern": NOT_BLANK, "maxLength": limit}
    return {"type": ["string", "null"], "maxLength": limit}


def field_name(path: Iterable) -> str:
    """`title`, `alerts[0].fingerprint`: where in the input a value sits; WHOLE for the input itself."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or WHOLE


def _listed(values: list) -> str:
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " " + _("or") + " " + words[-1]


def _choices(error: ValidationError) -> list | None:
    """The values an enum, a const or a oneOf / anyOf of consts allows."""
    if error.validator == "enum":
        return list(error.validator_value)
    if error.validator == "const":
        return [error.validator_value]
    branches = error.validator_value if error.validator in ("oneOf", "anyOf") else None
    if branches and all(isinstance(b, dict) and "const" in b for b in branches):
        return [b["const"] for b in branches]
    return None


def _type_message(expected) -> str:
    kinds = [k for k in ([expected] if isinstance(expected, str) else expected) if k != "null"]
    if len(kinds) == 1 and kinds[0] in _KINDS:
        return str(_KINDS[kinds[0]])
    return _("This is not the expected kind of value.")


def _message(error: ValidationError) -> str:
    """A person's wording of one error that concerns the value at the error's own path."""
    kind, limit = error.validator, error.validator_value
    choices = _choices(error)
    if error.instance is None or (kind == "pattern" and limit == NOT_BLANK):
        return _("This field is required.")
    if choices is not None:
        if len(choices) == 1:
            return _("Only %(value)s is accepted.", value=choices[0])
        return _("Choose %(choices)s.", choices=_listed(choices))
    messages = {
        "type": lambda: _type_message(limit),
        "maxLength": lambda: _("At most %(n)s characters.", n=limit),
        "minLength": lambda: _("At least %(n)s characters.", n=limit),
        "maxItems": lambda: _("At most %(n)s items.", n=limit),
        "minItems": lambda: _("At least %(n)s items.", n=limit),
        "maximum": lambda: _("At most %(n)s.", n=limit),
        "minimum": lambda: _("At least %(n)s.", n=limit),
        "exclusiveMaximum": lambda: _("Less than %(n)s.", n=limit),
        "exclusiveMinimum": lambda: _("More than %(n)s.", n=limit),
        "pattern": lambda: _("This is not in the expected form."),
        "format": lambda: _("Not a valid %(format)s.", format=limit),
        "uniqueItems": lambda: _("Each item may appear only once."),
    }
    return messages[kind]() if kind in messages else _("This value is not accepted.")


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    """(field, message) pairs for one error; missing and unknown fields are named themselves."""
    path = list(error.absolute_path)
    if error.validator in ("required", "dependentRequired"):
        return _missing(error, path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        return [(field_name([*path, n]), _("No such field.")) for n in error.instance if n not in known]
    if error.validator == "type" and ("enum" in error.schema or "const" in error.schema):
        return []  # the choices' own error says what is accepted
    if error.context and _choices(error) is None:
        # oneOf / anyOf of schemas: what each branch found wrong, at the branch's own field.
        return [problem for item in error.context for problem in _problems(item)]
    return [(field_name(path), _message(error))]


def _missing(error: ValidationError, path: list) -> list[tuple[str, str]]:
    """Each required field the object lacks, named itself."""
    wanted = error.validator_value
    if error.validator == "dependentRequired":
        wanted = [name for names in wanted.values() for name in names]
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [(field_name([*path, n]), _("This field is required.")) for n in wanted if n not in instance]


def control_message(character: str) -> str:
    return _("Remove the control character U+%(code)s from this text.", code=f"{ord(character):04X}")


def controls(data: object, path: tuple = ()) -> Iterator[tuple[str, str]]:
    """(field, message) for each text of data, or name of an object's field, that holds a control character."""
    if isinstance(data, str):
        found = CONTROL.search(data)
        if found:
            yield field_name(path), control_message(found.group())
    elif isinstance(data, dict):
        for key, value in data.items():
            found = CONTROL.search(key) if isinstance(key, str) else None
            if found:
                yield field_name(path), control_message(found.group())
            yield from controls(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from controls(value, (*path, index))


def errors_of(*, schema: dict, data: object) -> dict[str, list[str]]:
    """Every problem of data, keyed by field; empty when data is valid."""
    fields: dict[str, list[str]] = {}
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    problems = [p for error in validator.iter_errors(data) for p in _problems(error)]
    for name, message in [*problems, *controls(data)]:
        if message not in fields.setdefault(name, []):
            fields[name].append(message)
    return fields


def cleaned(data: dict) -> dict:
    """The values with their top-level text stripped; text left blank becomes None."""
    return {k: (v.strip() or None) if isinstance(v, str) else v for k, v in data.items()}


def validate(*, schema: dict, data: object, what: str) -> dict:
    """The cleaned values of data when it is valid against schema; ValidationFailed naming every bad field
    otherwise, its message starting with `what` ("the incident")."""
    fields = errors_of(schema=schema, data=data)
    if fields:
        raise ValidationFailed(f"{what} has errors: " + ", ".join(sorted(fields)), fields)
    return cleaned(data) if isinstance(data, dict) else data
