"""Reading the catalog and seeding its demo items from forms/catalog/."""

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.models import CatalogItem
from app.config import PROJECT_ROOT

DEMO_ITEMS = [
    # key, name, description, cost, approval, fulfillment group, automated, fulfilment tasks (in parallel)
    (
        "software-access",
        "Software access",
        "Access to a business application.",
        0,
        "manager",
        "app-support",
        False,
        ["Grant access in the application"],
    ),
    (
        "new-laptop",
        "New laptop",
        "A standard laptop, delivered and set up.",
        1500,
        "manager",
        "service-desk",
        False,
        ["Prepare and image the laptop", "Create the accounts and licences"],
    ),
    ("password-reset", "Password reset", "A new temporary password, sent at once.", 0, "none", None, True, []),
]


def active_items(db: Session) -> list[CatalogItem]:
    return list(db.scalars(select(CatalogItem).where(CatalogItem.active.is_(True)).order_by(CatalogItem.name)))


def item_by_key(db: Session, *, key: str) -> CatalogItem | None:
    return db.scalar(select(CatalogItem).where(CatalogItem.key == key, CatalogItem.active.is_(True)))


def seed_items(db: Session, *, forms: Path = PROJECT_ROOT / "forms" / "catalog") -> int:
    existing = {i.key for i in db.scalars(select(CatalogItem))}
    created = 0
    for key, name, description, cost, approval, group, automated, tasks in DEMO_ITEMS:
        if key in existing:
            continue
        schema = json.loads((forms / f"{key}.schema.json").read_text(encoding="utf-8"))
        ui_path = forms / f"{key}.uischema.json"
        ui = json.loads(ui_path.read_text(encoding="utf-8")) if ui_path.exists() else {}
        db.add(
            CatalogItem(
                key=key,
                name=name,
                description=description,
                form=schema,
                ui_form=ui,
                cost=cost,
                approval=approval,
                fulfillment_group=group,
                automated=automated,
                fulfilment_tasks=tasks,
            )
        )
        created += 1
    return created
