"""The sandbox's hard limits, each holding where the first guards did not: inside one long C call, in memory a
method builds, in data a script leaves behind, in data keys named like helpers. Each finding of the security
probe is reproduced in the place a process owner writes it, and now ends as an instance error naming the element
and the limit, while other evaluations are served."""

import threading

import pytest

from app import engine
from app.engine import EngineError, sandbox
from app.engine.bundle import BundleError
from app.engine.decisions import input_in_place
from app.engine.sandbox import SandboxError, pool
from tests.engine.test_security_corpus import bundle

CPU = "CPU time limit"
MEMORY = "memory limit"
LIMITS = (
    CPU,
    MEMORY,
    "sequence too large",
)  # which one a finding meets first depends on the machine# What the probe ran, and the limit that now stops it.
FINDINGS = {
    "pow of a huge number": ("r = pow(10, 10**7).bit_length()", CPU),
    "integer multiplication": ("x = 7\nfor i in range(24):\n    x = x * x", CPU),
    "sum of lists": ("x = sum([[0] * 90000 for i in range(400)], [])", CPU),
    "str.ljust from the type": ("x = str.ljust('', 10**9)", MEMORY),
    "bytes ljust": ("x = b''.ljust(10**9)", MEMORY),
    "bytes percent width": ("x = b'%01000000000d' % 1", MEMORY),
    "int.to_bytes": ("x = (1).to_bytes(10**9, 'big')", MEMORY),
    "bytes expandtabs": ("x = (b'\\t' * 1000).expandtabs(10**6)", MEMORY),
    "str.translate": ("x = ('a' * 100000).translate({97: 'b' * 100000})", MEMORY),
    "doubling by +": ("x = 'x'\nfor i in range(40):\n    x = x + x", MEMORY),
    "doubling by join": ("x = ['x']\nfor i in range(40):\n    x = [''.join(x + x)]", MEMORY),
    "doubling by extend": ("x = [0]\nfor i in range(40):\n    x.extend(x)", MEMORY),
}


def run(database, attack, **data):
    with database.unit_of_work() as db:
        engine.deploy_bundle(db, bundle=attack, actor="olivia")
    with database.unit_of_work() as db:
        return engine.start(db, process_id="attack", data=data, actor="olivia")


@pytest.mark.parametrize("name", FINDINGS)
def test_a_runaway_script_ends_the_instance_in_error_naming_the_element_and_the_limit(database, name):
    script, limit = FINDINGS[name]
    with pytest.raises(EngineError) as stopped:
        run(database, bundle("script", script=script))
    assert stopped.value.element_id == "payload"
    message = str(stopped.value)
    assert message.startswith("Payload: stopped: it "), message
    assert limit in message or any(other in message for other in LIMITS), message


@pytest.mark.parametrize("place", ["condition", "timer", "decision"])
def test_a_runaway_expression_is_stopped_in_every_place_it_can_be_written(database, place):
    with pytest.raises(EngineError) as stopped:
        run(database, bundle(place, "pow(10, 10**7).bit_length() > 0"))
    assert CPU in str(stopped.value), str(stopped.value)


def test_the_sandbox_serves_other_evaluations_while_one_runs_away():
    """Two sandbox processes: while one burns its CPU time, the other answers; then the stopped one is
    replaced and the pool works as before."""
    finished = []

    def runaway():
        with pytest.raises(SandboxError, match=CPU):
            sandbox.execute("r = pow(10, 10**8).bit_length()", {})
        finished.append("runaway")

    thread = threading.Thread(target=runaway)
    thread.start()
    answers = [sandbox.evaluate("a + 1", {"a": i}) for i in range(20)]
    finished.append("others")
    thread.join()
    assert answers == list(range(1, 21))
    assert finished == ["others", "runaway"], "the other evaluations did not wait for the runaway one"
    assert sandbox.evaluate("'still' + ' working'", {}) == "still working"


def test_a_script_that_outlives_the_wall_time_limit_is_killed(monkeypatch):
    pool.configure(sandbox.Limits(cpu_seconds=30, wall_seconds=0.5))
    try:
        with pytest.raises(SandboxError, match="wall time limit"):
            sandbox.execute("r = pow(10, 10**8).bit_length()", {})
        assert sandbox.evaluate("1 + 1", {}) == 2
    finally:
        pool.configure(sandbox.Limits.from_env())


def test_a_data_key_named_like_a_helper_does_not_replace_the_helper(database):
    outcome = run(database, bundle("script", script="stamp = now()\nsize = len(items)"), now="data", len=3, items=[1])
    assert outcome.data["now"] == "data" and outcome.data["len"] == 3, "the data keys keep their values"
    assert outcome.data["stamp"].startswith("20") and outcome.data["size"] == 1, "the helpers still work"


def test_a_script_may_not_assign_a_helpers_name(database):
    with pytest.raises(BundleError) as refused, database.unit_of_work() as db:
        engine.deploy_bundle(db, bundle=bundle("script", script="now = 'later'"), actor="olivia")
    assert [p.element_id for p in refused.value.problems] == ["payload"]
    assert "now is the name of a helper" in refused.value.problems[0].message


def test_a_value_task_data_cannot_store_is_refused_naming_the_element_and_the_variable(database):
    with pytest.raises(EngineError) as refused:
        run(database, bundle("script", script="g = (i for i in [1])"))
    assert refused.value.element_id == "payload"
    assert "g holds a generator" in str(refused.value)


def test_a_timer_expression_with_an_absurd_duration_is_an_error_naming_the_timer(database):
    with pytest.raises(EngineError) as refused:
        run(database, bundle("timer", "'P' + '9' * 5000 + 'D'"))
    assert refused.value.element_id == "payload", str(refused.value)


def test_a_decision_entry_gets_the_input_in_place_of_each_question_mark_outside_quotes():
    assert input_in_place("4 < ? < 6") == "4 < dmninputexpr < 6"
    assert input_in_place("? != 'why?' and ? != \"?\"") == "dmninputexpr != 'why?' and dmninputexpr != \"?\""


def test_the_decision_check_refuses_an_entry_of_many_question_marks_and_a_quote_as_it_reads_it(database):
    """The entry the probe froze the server with for 7 s: now refused at once, naming the entry."""
    attack = bundle("decision", "1")
    attack.files["attack.dmn"] = attack.files["attack.dmn"].replace(
        '<inputEntry id="attack_rule_in"><text>-</text>',
        '<inputEntry id="attack_rule_in"><text>' + "?" * 15000 + "'</text>",
    )
    problems = engine.check_bundle(attack)
    assert [p.element_id for p in problems] == ["attack_rule"], problems
