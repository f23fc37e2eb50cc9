"""Catalog items: data an admin changes without touching a diagram."""

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class CatalogItem(Base):
    __tablename__ = "catalog_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    form: Mapped[dict]  # JSON Schema of the fields the requester fills in
    ui_form: Mapped[dict] = mapped_column(default=dict)
    cost: Mapped[int] = mapped_column(default=0)  # in whole euros; approvals.dmn decides who approves it
    approval: Mapped[str] = mapped_column(String(20), default="none")  # none, manager
    fulfillment_group: Mapped[str | None] = mapped_column(String(64))
    automated: Mapped[bool] = mapped_column(default=False)
    # The fulfilment group's tasks, worked in parallel (one task each); empty for automated items.
    fulfilment_tasks: Mapped[list] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
