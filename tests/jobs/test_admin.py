"""Admins: failed jobs are inspected and retried from the browser; alert label rules are edited there."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from app import engine
from app.jobs import service as jobs
from app.jobs import worker
from app.jobs.models import Job
from tests.alerts.test_alerts import post, webhook
from tests.conftest import sign_in
from tests.jobs.test_worker import _deploy_timers


def test_a_failed_timer_is_shown_to_the_admin_and_retried(app, database, tmp_path):
    _deploy_timers(database, tmp_path)
    with database.unit_of_work() as db:
        engine.start(db, process_id="wait", data={"delay": "PT1S", "divisor": 0}, actor="olivia")
    with database.reader() as db:
        (job,) = db.scalars(select(Job).where(Job.kind == "timer"))
    moment = job.due_at
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        moment += timedelta(seconds=2**attempt + 1)
        with time_machine.travel(moment, tick=False):
            worker.run_once(database)
    admin = sign_in(app, "admin")
    page = admin.get("/admin/jobs").get_data(as_text=True)
    assert f"<td>{job.id}</td>" in page and "ZeroDivisionError" in page
    assert sign_in(app, "sam").get("/admin/jobs").status_code == 403
    assert sign_in(app, "sam").post(f"/admin/jobs/{job.id}/retry").status_code == 403
    assert admin.post(f"/admin/jobs/{job.id}/retry").status_code == 302
    with database.reader() as db:
        retried = db.get(Job, job.id)
        assert (retried.status, retried.attempts) == ("waiting", 0)
    assert admin.post(f"/admin/jobs/{job.id}/retry").status_code == 409, "it is no longer failed"
    history = admin.get("/admin/jobs").get_data(as_text=True)
    assert "No failed job." in history


def test_alert_rules_edited_by_an_admin_apply_to_the_next_alert(app, api):
    admin = sign_in(app, "admin")
    assert "severity" in admin.get("/admin/alerts").get_data(as_text=True)
    bad = admin.post("/admin/alerts", data={"label": "team", "match": "db", "field": "impact", "value": "huge"})
    assert bad.status_code == 422 and 'id="value-error"' in bad.get_data(as_text=True)
    assert (
        admin.post("/admin/alerts", data={"label": "team", "match": "*", "field": "service", "value": ""}).status_code
        == 302
    )
    post(api, webhook("firing", "fp-team", severity="warning", team="payments"))
    ticket = api.get("sam", "/api/v1/tickets/INC0000001")[1]
    assert (ticket["service"], ticket["impact"]) == ("payments", "medium")
    assert admin.post("/admin/alerts/defaults").status_code == 302
    assert "team" not in admin.get("/admin/alerts").get_data(as_text=True)
    assert sign_in(app, "olivia").post("/admin/alerts/defaults").status_code == 403
