"""Decision tables as Flowdesk runs them: SpiffWorkflow's DMN engine, with the input put in place of a `?` in
linear time (its own pattern backtracks: an entry of many `?` and a quote took seconds, a long one hours)."""

from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

PLACEHOLDER = "dmninputexpr"


def input_in_place(entry: str) -> str:
    """Every `?` outside quotes replaced by the input's name, as SpiffWorkflow finds them: a `?` is outside quotes
    when an even number of quote characters (' or ") follows it. One pass from the end."""
    parts: list[str] = []
    quotes_after = 0
    for char in reversed(entry):
        if char in "'\"":
            quotes_after += 1
        parts.append(PLACEHOLDER[::-1] if char == "?" and quotes_after % 2 == 0 else char)
    return "".join(parts)[::-1]


class LinearDMNEngine(DMNEngine):
    """DMNEngine whose match of an input entry finds the `?` in one pass; the rest is SpiffWorkflow's. It keeps the
    id of the decision it was built for (what a business rule task calls), so the app can evaluate it by name."""

    def __init__(self, decision_table, decision_id: str | None = None):
        super().__init__(decision_table)
        self.decision_id = decision_id

    def evaluate(self, input_expr, match_expr, task):
        if match_expr is None:
            return True
        script_engine = task.workflow.script_engine
        match_expr = input_in_place(match_expr)
        if PLACEHOLDER in match_expr:
            external_context = {PLACEHOLDER: script_engine.evaluate(task, input_expr)}
            return script_engine.evaluate(task, match_expr, external_context=external_context)
        script_engine.validate(input_expr)
        needs_eq = self.needs_eq(script_engine, match_expr)
        expr = f"({input_expr}) == ({match_expr})" if needs_eq else input_expr + match_expr
        return script_engine.evaluate(task, expr)
