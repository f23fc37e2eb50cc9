"""The `flowdesk` command line: serve, worker, db upgrade, deploy, seed-demo, token, deactivate, audit verify and
checkpoint."""

import signal
import sys
import threading
from pathlib import Path

import click

from app.config import PROJECT_ROOT, Settings
from app.db import Database
from app.wiring import open_database


def _database() -> Database:
    # The commands sign no sessions; the key only fills the field.
    return open_database(Settings.from_env(secret_key="unused-by-commands").database_url)  # noqa: S106


def _interrupt(*_) -> None:
    """SIGTERM ends the server as Ctrl-C does, so its worker writes its last checkpoint."""
    raise KeyboardInterrupt


@click.group()
def main():
    """Flowdesk: IT service management driven by BPMN."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True, envvar="PORT")
def serve(host: str, port: int):
    """Development server with the worker running in-process."""
    from werkzeug.serving import WSGIRequestHandler, run_simple

    class Handler(WSGIRequestHandler):
        """Says it is Flowdesk, not which server and Python version it runs on."""

        def version_string(self) -> str:
            return "Flowdesk"

    from app import create_app
    from app.jobs.worker import run_forever

    app = create_app()
    stop = threading.Event()
    database = app.extensions["flowdesk.db"]
    loop = threading.Thread(target=run_forever, args=(database, stop), daemon=True, name="worker")
    loop.start()
    signal.signal(signal.SIGTERM, _interrupt)
    click.echo(f"Flowdesk on http://{host}:{port}")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False, request_handler=Handler)
    finally:
        stop.set()
        loop.join(30)  # its last audit checkpoint


@main.command()
def worker():
    """Timer, message and outbox worker loop (several may run at once)."""
    from app.jobs.worker import run_forever

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # stop after the job at hand, with a last checkpoint
    try:
        run_forever(_database(), stop)
    except KeyboardInterrupt:
        stop.set()


@main.group()
def db():
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade():
    """Migrate the database to the latest schema."""
    from app.migrate import upgrade

    upgrade(_database())
    click.echo("database is at the latest schema")


@main.group()
def search():
    """Full-text search commands."""


@search.command("reindex")
def search_reindex():
    """Build the ticket search index again in FLOWDESK_SEARCH_LANGUAGE (after changing it)."""
    from app import text_search
    from app.tickets.search_index import reindex

    try:
        language = text_search.language()
    except ValueError as err:
        click.echo(str(err), err=True)
        sys.exit(2)
    with _database().unit_of_work() as session:
        count = reindex(session)
    click.echo(f"{count} tickets indexed in {language}")


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def deploy(directory: Path | None):
    """Deploy DIRECTORY/processes and DIRECTORY/forms (default: the project's own)."""
    from app import engine
    from app.engine import BundleError

    root = (directory or PROJECT_ROOT).resolve()
    if not (root / "processes").is_dir():
        click.echo(f"{root}: no processes/ folder", err=True)
        sys.exit(2)
    database = _database()
    try:
        with database.unit_of_work() as session:
            results = engine.deploy_directory(session, root=root, actor=None)
    except BundleError as err:
        for problem in err.problems:
            click.echo(str(problem), err=True)
        sys.exit(2)
    for result in results:
        state = "deployed" if result.created else "unchanged"
        click.echo(f"{result.definition.process_id} version {result.definition.version} ({state})")


@main.command("seed-demo")
def seed_demo():
    """Demo groups, users and catalog (idempotent)."""
    from app.demo import seed

    with _database().unit_of_work() as session:
        created = seed(session)
    click.echo(f"demo data ready ({created} users created)")


@main.command()
@click.argument("username")
def token(username: str):
    """Print a new API token for USERNAME."""
    from app.identity.service import create_token

    try:
        with _database().unit_of_work() as session:
            value = create_token(session, username=username)
    except LookupError as err:
        click.echo(str(err), err=True)
        sys.exit(2)
    click.echo(value)


@main.command()
@click.argument("username")
def deactivate(username: str):
    """Deactivate USERNAME: sign-in, sessions and every token stop at once."""
    from app.errors import NotFound
    from app.identity.sessions import deactivate as deactivate_user

    try:
        with _database().unit_of_work() as session:
            deactivate_user(session, username=username, actor=None)
    except NotFound as err:
        click.echo(err.message, err=True)
        sys.exit(2)
    click.echo(f"{username} is deactivated: their sessions and tokens no longer work")


@main.group()
def audit():
    """Audit log commands."""


@audit.command("verify")
def audit_verify():
    """Check the audit chain (HMACs, the newest checkpoint, ticket and comment rows): exit 0, or exit 1 naming
    the first bad event."""
    from app.audit import checkpoints
    from app.audit.service import verify
    from app.config import audit_checkpoints, audit_key
    from app.tickets.ledger import compare

    database, key = _database(), audit_key()
    try:
        newest = checkpoints.newest(audit_checkpoints(database.url), key=key)
    except checkpoints.CheckpointError as err:
        click.echo(f"audit chain not proven: {err}")
        sys.exit(1)
    with database.reading() as session:
        report = verify(session, key=key, head=newest[0] if newest else None)
        difference = compare(session) if report.ok else None
    if not report.ok:
        click.echo(
            f"audit chain broken at event {report.bad_event_id}: {report.reason} ({report.checked} good before it)"
        )
        sys.exit(1)
    if difference is not None:
        click.echo(f"audit chain intact but the rows differ from it: {difference}")
        sys.exit(1)
    seen = f"checkpoint {newest[1].name} ({newest[0].events} events) holds" if newest else "no checkpoint yet"
    click.echo(f"audit chain intact: {report.checked} events, {seen}, tickets and comments match")


@audit.command("checkpoint")
def audit_checkpoint():
    """Write a checkpoint of the audit chain's head now (the worker writes one every minute)."""
    from app.audit.checkpoints import CheckpointError
    from app.config import audit_checkpoints
    from app.wiring import checkpoint

    database = _database()
    try:
        head = checkpoint(database)
    except CheckpointError as err:
        click.echo(f"no checkpoint written: {err}", err=True)
        sys.exit(1)
    if head is None:
        click.echo("no checkpoint written: the audit log is empty")
        return
    click.echo(
        f"checkpoint written to {audit_checkpoints(database.url)}: {head.events} events up to event {head.last_id}"
    )
