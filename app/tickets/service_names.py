"""The services people name on a ticket, until services are data of their own: each known service's name, the
label forms offer, and the words people type for it ("Mail", "e-mail", "messagerie" all mean `mail`).

A typed service is stored under its known name, so the decision tables (processes/sla_calendar.dmn) match it
whatever its case, accents or synonym; a service nobody listed is kept as typed.
"""

import unicodedata

from flask_babel import lazy_gettext as _l

# name: (label, other words people use for it, in English and French)
SERVICES = {
    "mail": (_l("Mail"), ("email", "e-mail", "e mail", "messagerie", "courriel", "outlook", "webmail")),
    "vpn": (_l("VPN"), ("remote access", "acces distant", "acces a distance")),
    "network": (_l("Network"), ("lan", "wifi", "wi-fi", "reseau", "internet")),
    "erp": (_l("ERP"), ("sap", "progiciel de gestion")),
    "laptop": (_l("Laptop"), ("notebook", "pc portable", "ordinateur portable", "portable")),
}


def _folded(text: str) -> str:
    """Lower case, no accents, single spaces: "  Réseau " and "reseau" are one word."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.casefold().split())


_KNOWN = {_folded(word): name for name, (_label, words) in SERVICES.items() for word in (name, *words)}


def known_name(service: str | None) -> str | None:
    """The known service's name for what someone typed, the text itself when no service goes by it."""
    if service is None:
        return None
    return _KNOWN.get(_folded(service), service)


def choices() -> list[tuple[str, str]]:
    """(name, label) of each known service, for a form's list."""
    return [(name, str(label)) for name, (label, _words) in SERVICES.items()]


def label(service: str | None) -> str:
    """What a page shows for a ticket's service: the known service's label, or the text as typed."""
    known = SERVICES.get(service or "")
    return str(known[0]) if known else (service or "—")
