"""What the tests send again and again: an agent's resolution and closure, a small incident."""

# The service desk resolves with a fix (the category routes a second-level escalation, where one is asked for).
RESOLVE = {"outcome": "resolve", "resolution_code": "fix", "resolution_notes": "Restarted the mail relay"}
RESOLVE_APPLICATION = {**RESOLVE, "category": "application"}
CLOSE = {"closure_code": "solved_permanently", "closure_notes": "Relay restarted, monitored for an hour"}


def incident(title: str = "Printer jam", *, impact: str = "low", urgency: str = "low", **more) -> dict:
    """The body of a new incident through the API or the portal."""
    return {"title": title, "impact": impact, "urgency": urgency, **more}
