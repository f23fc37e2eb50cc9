"""The background worker loop. Timers, message deliveries and the outbox are added to it as they arrive;
for now it only keeps the loop, its stop signal and its database handle in place."""

import logging
import threading

from app.db import Database

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0


def run_once(database: Database) -> int:
    """Fire what is due; returns how many jobs ran."""
    return 0


def run_forever(database: Database, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            run_once(database)
        except Exception:  # noqa: BLE001 - the loop must survive one bad job; the job keeps its error
            log.exception("worker iteration failed")
        stop.wait(POLL_SECONDS)
