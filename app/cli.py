"""The `flowdesk` command line: serve, worker, db upgrade, deploy, seed-demo, token, audit verify."""

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
    threading.Thread(target=run_forever, args=(app.extensions["flowdesk.db"], stop), daemon=True, name="worker").start()
    click.echo(f"Flowdesk on http://{host}:{port}")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False, request_handler=Handler)
    finally:
        stop.set()


@main.command()
def worker():
    """Timer, message and outbox worker loop (several may run at once)."""
    from app.jobs.worker import run_forever

    stop = threading.Event()
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


@main.group()
def audit():
    """Audit log commands."""


@audit.command("verify")
def audit_verify():
    """Check the audit hash chain: exit 0, or exit 1 naming the first bad event."""
    from app.audit.service import verify

    database = _database()
    with database.reading() as session:
        report = verify(session)
    if report.ok:
        click.echo(f"audit chain intact: {report.checked} events")
        return
    click.echo(f"audit chain broken at event {report.bad_event_id}: {report.reason} ({report.checked} good before it)")
    sys.exit(1)
