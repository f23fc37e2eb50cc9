"""A runaway script does not stall the server: while diagram code burns its CPU time in a sandbox process, the
server's own interpreter is free, and a health check over HTTP is answered; then the script is stopped, naming
the limit. (Before the pool, `pow(10, 10**7)` held the interpreter for 7.8 s: the health check waited as long.)"""

import threading
import time
import urllib.request

import pytest
from werkzeug.serving import make_server

from app import engine
from app.engine import EngineError
from app.engine.sandbox import pool
from tests.engine.test_security_corpus import bundle


def _a_sandbox_is_busy() -> bool:
    sandboxes = pool.current()
    return sandboxes._started > len(sandboxes._idle)


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_health_checks_are_answered_while_a_runaway_script_is_stopped(database, served):
    with database.unit_of_work() as db:
        engine.deploy_bundle(db, bundle=bundle("script", script="r = pow(10, 10**8).bit_length()"), actor="olivia")
    events, errors = [], []

    def runaway():
        try:
            with database.unit_of_work() as db:
                engine.start(db, process_id="attack", data={}, actor="olivia")
        except EngineError as err:
            errors.append(str(err))
        events.append("runaway stopped")

    thread = threading.Thread(target=runaway)
    thread.start()
    while thread.is_alive() and not _a_sandbox_is_busy():
        time.sleep(0.01)  # the health checks go while the script runs
    answers = []
    for _ in range(3):
        with urllib.request.urlopen(f"{served}/api/v1/health", timeout=10) as reply:  # noqa: S310 - our own server
            answers.append(reply.status)
    events.append("health answered")
    thread.join()
    assert answers == [200, 200, 200]
    assert events == ["health answered", "runaway stopped"], "the health checks waited for the runaway script"
    assert len(errors) == 1 and "CPU time limit" in errors[0] and errors[0].startswith("Payload:")
