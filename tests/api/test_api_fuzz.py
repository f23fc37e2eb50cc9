"""The OpenAPI document fuzzed with schemathesis: no generated request, with a valid admin token or with
none, gets a server error (5xx)."""

import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402 - after the skip

from app import create_app  # noqa: E402
from app.config import Settings  # noqa: E402
from app.identity.service import create_token  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.wiring import open_database  # noqa: E402
from tests.conftest import _prepare  # noqa: E402


def _fuzz_app():
    """Its own SQLite database, prepared like the suite's (processes deployed, demo data seeded)."""
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='flowdesk-fuzz-')) / 'flowdesk.db'}"
    database = open_database(url)
    upgrade(database)
    _prepare(database)
    with database.unit_of_work() as db:
        token = create_token(db, username="admin")
    return create_app(Settings(database_url=url, secret_key="fuzz", base_url="http://x", smtp_url=None)), token


APP, TOKEN = _fuzz_app()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_server_fail(case):
    for headers in ({"Authorization": f"Bearer {TOKEN}"}, {}):
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:300])
