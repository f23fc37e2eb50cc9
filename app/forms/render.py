"""Server-side rendering of JSON Schema task forms, and conversion of submitted form fields to typed data.

The same schema validates the API's submissions, so a form a browser posts and a JSON body an
integration sends are held to the same rules.
"""

from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict


def _choices(prop: dict) -> list[tuple[Any, str]] | None:
    if "oneOf" in prop and all(isinstance(o, dict) and "const" in o for o in prop["oneOf"]):
        return [(o["const"], o.get("title") or _humanise(o["const"])) for o in prop["oneOf"]]
    if "enum" in prop:
        return [(v, _humanise(v)) for v in prop["enum"]]
    return None


def _humanise(value: Any) -> str:
    return str(value).replace("_", " ").capitalize()


def _kind(prop: dict) -> str:
    kind = prop.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind


def conditional_requirements(schema: dict) -> dict[str, list[str]]:
    """Field -> human conditions under which allOf/if/then makes it required."""
    found: dict[str, list[str]] = {}
    for part in schema.get("allOf", []):
        condition = part.get("if", {}).get("properties", {})
        words = []
        for name, rule in condition.items():
            if "const" in rule:
                value = rule["const"]
                prop = schema.get("properties", {}).get(name, {})
                titles = dict(_choices(prop) or [])
                shown = (
                    _("yes") if value is True else _("no") if value is False else titles.get(value, _humanise(value))
                )
                label = prop.get("title", name)
                words.append(_("%(field)s is “%(value)s”", field=label, value=shown))
        for name in part.get("then", {}).get("required", []):
            found.setdefault(name, []).append(_(" and ").join(words))
    return found


def field_order(schema: dict, ui: dict) -> list[str]:
    names = list(schema.get("properties", {}))
    order = [n for n in ui.get("ui:order", []) if n in names]
    return order + [n for n in names if n not in order]


def render(
    schema: dict,
    ui: dict | None,
    data: dict | None,
    errors: dict[str, list[str]] | None,
    *,
    carried: frozenset[str] = frozenset(),
) -> Markup:
    """The form's fields with their values and errors; carried: the fields filled from what the process already
    holds, each said to be so."""
    ui, data, errors = ui or {}, data or {}, errors or {}
    required = set(schema.get("required", []))
    conditional = conditional_requirements(schema)
    parts = [_form_errors(errors.get("_form", []))]
    for name in field_order(schema, ui):
        parts.append(
            _field(
                name,
                schema["properties"][name],
                ui.get(name, {}),
                data.get(name),
                errors.get(name, []),
                name in required,
                conditional.get(name, []),
                name in carried,
            )
        )
    return Markup("").join(parts)


def _form_errors(messages: list[str]) -> Markup:
    if not messages:
        return Markup("")
    items = Markup("").join(Markup("<li>{}</li>").format(m) for m in messages)
    return Markup('<div class="form-errors" role="alert"><ul>{}</ul></div>').format(items)


def _field(name, prop, ui, value, messages, required, conditions, carried=False) -> Markup:
    field_id = f"field-{name}"
    label = prop.get("title") or _humanise(name)
    help_html, error_html, described = _help_and_error(field_id, prop, ui, messages, required, conditions, carried)
    attrs = {
        "aria-describedby": " ".join(described) or None,
        "aria-invalid": "true" if messages else None,
        "required": required,
    }
    marker = Markup(' <span class="required" aria-hidden="true">*</span>') if required else Markup("")
    widget, choices, kind = ui.get("ui:widget"), _choices(prop), _kind(prop)
    if kind == "boolean":
        choices = [(True, _("Yes")), (False, _("No"))]
        widget = widget or "radio"
    if choices is not None and widget == "radio":
        inputs = Markup("").join(
            Markup('<label class="choice"><input type="radio" name="{}" value="{}"{}{}> {}</label>').format(
                name, _encode(v), _attrs(attrs), Markup(" checked") if value is not None and v == value else "", text
            )
            for v, text in choices
        )
        legend = Markup("<legend>{}{}</legend>").format(label, marker)
        return Markup('<fieldset class="field{}" id="{}">{}{}{}{}</fieldset>').format(
            " has-error" if messages else "", field_id, legend, help_html, inputs, error_html
        )
    label_html = Markup('<label for="{}">{}{}</label>').format(field_id, label, marker)
    control = _control(field_id, name, prop, ui, value, attrs, choices, kind, widget)
    return Markup('<div class="field{}">{}{}{}{}</div>').format(
        " has-error" if messages else "", label_html, help_html, control, error_html
    )


def _help_and_error(field_id, prop, ui, messages, required, conditions, carried) -> tuple[Markup, Markup, list[str]]:
    """The field's help line and error line, and the ids its control is described by."""
    help_texts = [t for t in (prop.get("description"), ui.get("ui:help")) if t]
    if carried:
        help_texts.append(_("Filled in from earlier work on this ticket: check it, change it if needed."))
    if _kind(prop) == "array":
        help_texts.append(_("One per line."))
    if conditions and not required:
        help_texts.append(_("Required when %(condition)s.", condition=_(" or ").join(conditions)))
    described = []
    help_html = error_html = Markup("")
    if help_texts:
        described.append(f"{field_id}-help")
        help_html = Markup('<p class="help" id="{}">{}</p>').format(f"{field_id}-help", " ".join(help_texts))
    if messages:
        described.append(f"{field_id}-error")
        error_html = Markup('<p class="field-error" id="{}">{}</p>').format(f"{field_id}-error", " ".join(messages))
    return help_html, error_html, described


def _control(field_id, name, prop, ui, value, attrs, choices, kind, widget) -> Markup:
    """The control of a field that is not a set of radio buttons: a list, a text area or an input."""
    if choices is not None:
        options = Markup('<option value="">{}</option>').format(_("Choose…"))
        options += Markup("").join(
            Markup('<option value="{}"{}>{}</option>').format(_encode(v), Markup(" selected") if v == value else "", t)
            for v, t in choices
        )
        return Markup('<select id="{}" name="{}"{}>{}</select>').format(field_id, name, _attrs(attrs), options)
    if kind == "array":
        lines = "\n".join(map(str, value)) if isinstance(value, list) else ("" if value is None else value)
        return Markup('<textarea id="{}" name="{}" rows="4"{}{}>{}</textarea>').format(
            field_id, name, _attrs(attrs), _placeholder(ui), lines
        )
    if widget == "textarea":
        return Markup('<textarea id="{}" name="{}" rows="5"{}{}>{}</textarea>').format(
            field_id, name, _attrs(attrs), _placeholder(ui), "" if value is None else value
        )
    input_type = {"integer": "number", "number": "number"}.get(kind) or {
        "email": "email",
        "date": "date",
        "date-time": "datetime-local",
    }.get(prop.get("format"), "text")
    return Markup('<input id="{}" name="{}" type="{}" value="{}"{}{}>').format(
        field_id, name, input_type, "" if value is None else value, _attrs(attrs), _placeholder(ui)
    )


def _encode(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def _placeholder(ui: dict) -> Markup:
    return Markup(' placeholder="{}"').format(ui["ui:placeholder"]) if ui.get("ui:placeholder") else Markup("")


def _attrs(attrs: dict) -> Markup:
    out = Markup("")
    for key, value in attrs.items():
        if value is True:
            out += Markup(" {}").format(key)
        elif value:
            out += Markup(' {}="{}"').format(key, value)
    return out


def coerce(schema: dict, form: MultiDict) -> dict:
    """Typed data from submitted strings: empty fields are left out, the rest converted by the schema's type."""
    data: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        raw = form.get(name)
        if raw is None or raw.strip() == "":
            continue
        kind = _kind(prop)
        choices = dict((_encode(v), v) for v, _t in (_choices(prop) or []))
        if raw in choices:
            data[name] = choices[raw]
        elif kind == "array":
            data[name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif kind == "boolean":
            data[name] = {"true": True, "on": True, "yes": True, "false": False, "no": False}.get(raw.lower(), raw)
        elif kind in ("integer", "number"):
            try:
                data[name] = int(raw) if kind == "integer" else float(raw)
            except ValueError:
                data[name] = raw  # the schema check names the field
        else:
            data[name] = raw.strip() if prop.get("format") else raw
    return data


__all__ = ["coerce", "render", "escape"]
