"""Checking submitted task data against the task's JSON Schema form, with errors keyed by field.

The shared validator (app.validation) does the checking and the wording; a form adds one rule of its own: every
field it accepts is listed in its schema's top-level properties, so any other field is refused. The data is
handed back as submitted (the process reads it), not stripped."""

import re

from flask_babel import gettext as _

from app.errors import ValidationFailed
from app.validation import errors_of as schema_errors


def errors_of(schema: dict, data: dict) -> dict[str, list[str]]:
    """Every problem of data, keyed by field name (`_form` for problems of the whole form)."""
    known = set(schema.get("properties", {}))
    fields = {name: [_("This form has no such field.")] for name in data if name not in known}
    for name, messages in schema_errors(schema=schema, data=data).items():
        # A form shows its errors by its top-level fields: the problem of a list item is the list's.
        top = re.split(r"[.\[]", name, maxsplit=1)[0]
        if top in data and top not in known:
            continue  # an unknown field is named once, as unknown
        found = fields.setdefault(top, [])
        found += [m for m in messages if m not in found]
    return fields


def validate_submission(schema: dict, data: object) -> dict:
    """The submitted data when valid; ValidationFailed naming every bad field otherwise."""
    if not isinstance(data, dict):
        raise ValidationFailed("data must be an object", {"data": [_("Expected an object of form fields.")]})
    fields = errors_of(schema, data)
    if fields:
        raise ValidationFailed("the form has errors: " + ", ".join(sorted(fields)), fields)
    return data
