"""Checking submitted task data against the task's JSON Schema form, with errors keyed by field."""

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from app.errors import ValidationFailed


def _choices(error: ValidationError) -> list | None:
    branches = error.validator_value if error.validator in ("oneOf", "anyOf") else None
    if branches and all(isinstance(b, dict) and "const" in b for b in branches):
        return [b["const"] for b in branches]
    return list(error.validator_value) if error.validator == "enum" else None


def _field_of(error: ValidationError) -> list[tuple[str, str]]:
    choices = _choices(error)
    if choices is not None and error.absolute_path:
        return [(str(error.absolute_path[0]), "Choose one of: " + ", ".join(map(str, choices)) + ".")]
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in (error.instance or {})]
        return [(name, "This field is required.") for name in missing]
    if error.absolute_path:
        return [(str(error.absolute_path[0]), error.message)]
    if error.validator == "additionalProperties":
        return [
            (name, "This form has no such field.")
            for name in error.instance
            if name not in error.schema.get("properties", {})
        ]
    return [("_form", error.message)]


def errors_of(schema: dict, data: dict) -> dict[str, list[str]]:
    """Every problem of data, keyed by field name (`_form` for problems of the whole form)."""
    fields: dict[str, list[str]] = {}
    known = set(schema.get("properties", {}))
    for name in data:
        if name not in known:
            fields.setdefault(name, []).append("This form has no such field.")
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for error in validator.iter_errors(data):
        flattened = [error] if not error.context or _choices(error) is not None else list(error.context)
        for item in flattened:
            for name, message in _field_of(item):
                if message not in fields.setdefault(name, []):
                    fields[name].append(message)
    return fields


def validate_submission(schema: dict, data: object) -> dict:
    """The submitted data when valid; ValidationFailed naming every bad field otherwise."""
    if not isinstance(data, dict):
        raise ValidationFailed("data must be an object", {"data": ["Expected an object of form fields."]})
    fields = errors_of(schema, data)
    if fields:
        raise ValidationFailed("the form has errors: " + ", ".join(sorted(fields)), fields)
    return data
