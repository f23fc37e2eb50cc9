"""A corpus of known sandbox escapes and resource attacks, each placed where a process owner can write
Python: a script task, a gateway condition, a timer expression and a decision table entry.

Every one is refused at deploy (the problem names the element) or stopped at run time with a clear error
(nothing is stored); none has an effect outside the sandbox (the canary file is never written).
"""

import os
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import func, select

from app import engine
from app.engine import EngineError, ProcessInstance
from app.engine.bundle import Bundle, BundleError

CANARY = f"/tmp/flowdesk-escaped-{os.getpid()}"  # noqa: S108 - the file an escape would write
# Expressions (a script assigns them to x).
CORPUS = {
    "subclasses via tuple": "().__class__.__bases__[0].__subclasses__()",
    "subclasses via str mro": "''.__class__.__mro__[1].__subclasses__()",
    "subclasses via list base": "[].__class__.__base__.__subclasses__()",
    "function globals": "(lambda: 0).__globals__",
    "function code": "(lambda: 0).__code__",
    "helper globals": "now.__globals__",
    "helper closure": "sla_at.__closure__",
    "generator frame": "(i for i in []).gi_frame",
    "generator code": "(i for i in []).gi_code",
    "frame back": "(i for i in []).gi_frame.f_back.f_globals",
    "getattr with a string": "getattr((), '__cla' + 'ss__')",
    "getattr on a helper": "getattr(now, '__globals__')",
    "str.format attribute access": "'{0.__class__.__mro__}'.format(1)",
    "format_map attribute access": "'{x.__class__}'.format_map({'x': 1})",
    "import statement via expression": "__import__('os').system('touch " + CANARY + "')",
    "builtins by name": "__builtins__['open']('" + CANARY + "', 'w')",
    "open": "open('" + CANARY + "', 'w')",
    "exec": "exec('import os')",
    "eval": "eval('1 + 1')",
    "compile": "compile('1', 'x', 'eval')",
    "globals": "globals()",
    "locals": "locals()",
    "vars": "vars()",
    "type": "type(())",
    "dir": "dir()",
    "power tower": "10 ** 10 ** 10",
    "huge string": "'x' * 10 ** 9",
    "huge list": "[0] * 10 ** 8",
    "huge shift": "1 << 10 ** 7",
    "huge range": "list(range(10 ** 9))",
    "huge padding": "'a'.ljust(10 ** 9)",
    "huge replace": "('a' * 100000).replace('a', 'b' * 100000)",
    "huge percent width": "'%1000000000d' % 1",
    "huge f-string width": "f'{1:>1000000000}'",
    "endless recursion": "(lambda f: f(f))(lambda f: f(f))",
    "huge comprehension": "[i for i in range(10 ** 8)]",
}
STATEMENTS = {
    "import": "import os",
    "from import": "from subprocess import run",
    "endless loop": "while True:\n    pass",
    "attribute write on a helper": "now.__doc__ = 'x'",
}

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="attack_definitions" targetNamespace="http://flowdesk.example.org/test">
  <bpmn:process id="attack" name="Attack" isExecutable="true">
    <bpmn:startEvent id="start" name="Start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    {body}
    <bpmn:endEvent id="end" name="End"><bpmn:incoming>f9</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""

PLACES = {
    "script": """
    <bpmn:scriptTask id="payload" name="Payload"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="payload"/>
    <bpmn:sequenceFlow id="f9" sourceRef="payload" targetRef="end"/>""",
    "condition": """
    <bpmn:exclusiveGateway id="payload" name="Payload" default="f9"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f9</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="other" name="Other"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="payload"/>
    <bpmn:sequenceFlow id="f2" name="Taken" sourceRef="payload" targetRef="other">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{expression}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f9" name="Otherwise" sourceRef="payload" targetRef="end"/>""",
    "timer": """
    <bpmn:intermediateCatchEvent id="payload" name="Payload"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f9</bpmn:outgoing>
      <bpmn:timerEventDefinition id="payload_timer">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{expression}</bpmn:timeDuration>
      </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="payload"/>
    <bpmn:sequenceFlow id="f9" sourceRef="payload" targetRef="end"/>""",
    "decision": """
    <bpmn:businessRuleTask id="payload" name="Payload"><bpmn:extensionElements>
      <spiffworkflow:calledDecisionId>attack_decision</spiffworkflow:calledDecisionId></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing></bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="payload"/>
    <bpmn:sequenceFlow id="f9" sourceRef="payload" targetRef="end"/>""",
}

DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="attack_dmn" name="Attack"
  namespace="http://flowdesk.example.org/dmn">
  <decision id="attack_decision" name="Attack decision">
    <decisionTable id="attack_table" hitPolicy="UNIQUE">
      <input id="attack_in" label="Anything"><inputExpression id="attack_in_expr" typeRef="string">
        <text>1</text></inputExpression></input>
      <output id="attack_out" label="Result" name="result" typeRef="string"/>
      <rule id="attack_rule"><inputEntry id="attack_rule_in"><text>-</text></inputEntry>
        <outputEntry id="attack_rule_out"><text>{expression}</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


def bundle(place: str, expression: str | None = None, script: str | None = None) -> Bundle:
    script = script if script is not None else f"x = {expression}"
    body = PLACES[place].format(expression=escape(expression or "1"), script=escape(script))
    files = {"attack.bpmn": BPMN.replace("{body}", body)}
    if place == "decision":
        files["attack.dmn"] = DMN.replace("{expression}", escape(expression or "1"))
    return Bundle("attack", "Attack", "attack.bpmn", files)


def attempt(database, attack: Bundle) -> str:
    """'refused' (at deploy, naming an element) or 'stopped' (at run time, nothing stored)."""
    try:
        with database.unit_of_work() as db:
            engine.deploy_bundle(db, bundle=attack, actor="olivia")
    except BundleError as err:
        assert all(p.element_id or p.file.endswith(".dmn") for p in err.problems), err.problems
        return "refused"
    with database.reader() as db:
        before = db.scalar(select(func.count()).select_from(ProcessInstance))
    with pytest.raises(EngineError) as stopped, database.unit_of_work() as db:
        engine.start(db, process_id="attack", data={}, actor="olivia")
    assert str(stopped.value), "the error says what stopped it"
    with database.reader() as db:
        assert db.scalar(select(func.count()).select_from(ProcessInstance)) == before, "nothing was stored"
    return "stopped"


CASES = [(place, name) for name in CORPUS for place in PLACES] + [("script", name) for name in STATEMENTS]


@pytest.mark.parametrize("place,name", CASES, ids=[f"{p}-{n}" for p, n in CASES])
def test_an_attack_is_refused_or_stopped(database, place, name):
    attack = bundle(place, script=STATEMENTS[name]) if name in STATEMENTS else bundle(place, CORPUS[name])
    assert attempt(database, attack) in ("refused", "stopped")
    assert not os.path.exists(CANARY), "nothing escaped the sandbox"


@pytest.mark.parametrize(
    "place,expression", [("script", "1 + 1"), ("condition", "1 == 2"), ("timer", "'PT0S'"), ("decision", "'ok'")]
)
def test_the_harness_deploys_and_runs_a_harmless_diagram_in_each_place(database, place, expression):
    assert len(CORPUS) + len(STATEMENTS) >= 30
    with database.unit_of_work() as db:
        engine.deploy_bundle(db, bundle=bundle(place, expression), actor="olivia")
        outcome = engine.start(db, process_id="attack", data={}, actor="olivia")
    assert outcome.instance.status in ("completed", "waiting"), outcome.instance.status


def test_how_the_corpus_ends(database, capsys):
    """The record: how many attacks each place refused at deploy and stopped at run time."""
    tally: dict[tuple[str, str], int] = {}
    for place, name in CASES:
        attack = bundle(place, script=STATEMENTS[name]) if name in STATEMENTS else bundle(place, CORPUS[name])
        result = attempt(database, attack)
        tally[(place, result)] = tally.get((place, result), 0) + 1
    with capsys.disabled():
        print("\nsecurity corpus:", {f"{p} {r}": n for (p, r), n in sorted(tally.items())})  # noqa: T201
    assert sum(tally.values()) == len(CASES)
    assert tally.get(("script", "stopped"), 0) >= 10, "run-time guards are exercised, not only compile-time ones"
