"""The ticket list: every kind in one list, its filters, full-text search, sorting, paging, saved views, the
CSV export and bulk actions, as the API serves them; bad input is 422 or an empty page, never a 500."""

import csv
import io
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import time_machine

from tests.tickets.test_incident_api import raise_incident


def numbers(api, user, query=""):
    status, found = api.get(user, f"/api/v1/tickets{query}")
    assert status == 200, found
    return [t["number"] for t in found]


@pytest.fixture
def desk(api):
    """Three incidents and a request from two requesters, one with an internal note and one with a public reply."""
    printer = raise_incident(api, title="Printers jammed on floor 3", description="Paper stuck in both trays")
    mail = raise_incident(
        api, user="ramon", title="Mail is down", description="Outlook cannot connect", impact="low", urgency="low"
    )
    vpn = raise_incident(
        api, title="VPN drops every hour", description="The tunnel resets", impact="high", urgency="high"
    )
    status, request = api.post("alice", "/api/v1/requests", {"item": "password-reset", "fields": {"account": "alice"}})
    assert status == 201, request
    api.post(
        "sam", f"/api/v1/tickets/{mail['number']}/comments", {"body": "Firewall suspected", "visibility": "internal"}
    )
    api.post("alice", f"/api/v1/tickets/{vpn['number']}/comments", {"body": "It happens near the kitchen router"})
    return {"printer": printer["number"], "mail": mail["number"], "vpn": vpn["number"], "request": request["number"]}


def test_the_list_holds_every_kind_newest_first_and_a_requester_only_their_own(api, desk):
    assert numbers(api, "sam") == [desk["request"], desk["vpn"], desk["mail"], desk["printer"]]
    assert numbers(api, "audrey") == numbers(api, "sam")  # auditors read the same list
    assert numbers(api, "ramon") == [desk["mail"]]
    assert numbers(api, "sam", "?kind=request") == [desk["request"]]


def test_search_finds_inflected_words_in_any_order_ranked_by_match(api, desk):
    assert numbers(api, "sam", "?q=printer") == [desk["printer"]]  # "Printers" found by "printer"
    assert numbers(api, "sam", "?q=jam%20printer") == [desk["printer"]]  # stems of "jammed", "Printers"
    assert numbers(api, "sam", "?q=trays") == [desk["printer"]]  # the description
    assert numbers(api, "sam", f"?q={desk['vpn']}") == [desk["vpn"]]  # the number
    assert numbers(api, "sam", "?q=printer%20-floor") == []  # a word left out
    assert set(numbers(api, "sam", '?q="mail%20is%20down"%20or%20tunnel')) == {desk["vpn"], desk["mail"]}
    assert numbers(api, "sam", '?q="stuck%20paper"') == []  # a phrase keeps its order
    assert numbers(api, "sam", '?q="paper%20stuck"') == [desk["printer"]]


def test_search_reads_the_comments_the_user_may_read(api, desk):
    assert numbers(api, "sam", "?q=firewall") == [desk["mail"]]  # an internal note, for agents
    assert numbers(api, "ramon", "?q=firewall") == []  # never for the requester
    assert numbers(api, "alice", "?q=kitchen%20routers") == [desk["vpn"]]  # her public reply


def test_a_match_in_the_title_ranks_above_one_in_a_comment(api, desk):
    api.post("sam", f"/api/v1/tickets/{desk['printer']}/comments", {"body": "Related to the VPN outage?"})
    assert numbers(api, "sam", "?q=vpn") == [desk["vpn"], desk["printer"]]
    assert numbers(api, "sam", "?q=vpn&sort=created_at") == [desk["printer"], desk["vpn"]]


@pytest.mark.parametrize(
    "q",
    [
        "' OR 1=1 --",
        '"unbalanced',
        "a AND NOT b OR",
        "NEAR(x y)",
        "*",
        "col:value",
        "x" * 5000,
        "🖨️ imprimante",
        "-",
        "-mail",
    ],
)
def test_any_search_text_is_just_a_search(api, desk, q):
    status, found = api.get("sam", "/api/v1/tickets?" + urlencode({"q": q}))
    assert status == 200 and found == [], found


def test_filters_narrow_the_list(api, desk):
    assert numbers(api, "sam", "?priority=critical") == [desk["vpn"]]
    assert numbers(api, "sam", "?priority=critical&priority=low") == [desk["vpn"], desk["mail"]]
    assert numbers(api, "sam", "?requester=ramon") == [desk["mail"]]
    assert numbers(api, "sam", "?status=New&kind=incident") == [desk["vpn"], desk["mail"], desk["printer"]]
    assert numbers(api, "sam", "?assignment_group=service-desk&unassigned=true&kind=incident") == [
        desk["vpn"],
        desk["mail"],
        desk["printer"],
    ]
    today = datetime.now(UTC).date()
    assert numbers(api, "sam", f"?created_from={today}&created_to={today}&kind=incident") != []
    assert numbers(api, "sam", f"?created_to={today - timedelta(days=1)}") == []
    assert numbers(api, "sam", "?open=false") == [desk["request"]]  # the password reset closed at once


def test_the_sla_filters_follow_the_clock(api, desk):
    assert numbers(api, "sam", "?sla=breached") == []
    with time_machine.travel(datetime.now(UTC) + timedelta(days=30)):
        assert set(numbers(api, "sam", "?sla=breached")) == {desk["printer"], desk["mail"], desk["vpn"]}
        assert numbers(api, "sam", "?sla=at_risk") == []


def test_sorting_by_priority_and_by_resolution_due(api, desk):
    assert numbers(api, "sam", "?kind=incident&sort=priority") == [desk["vpn"], desk["printer"], desk["mail"]]
    by_due = numbers(api, "sam", "?kind=incident&sort=resolution_due")
    assert by_due[0] == desk["vpn"] and by_due[-1] == desk["mail"]  # critical is due first, low last


def test_pages_follow_each_other(api, desk):
    first = numbers(api, "sam", "?limit=3")
    assert first + numbers(api, "sam", "?limit=3&offset=3") == numbers(api, "sam")
    assert numbers(api, "sam", "?offset=999999") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?kind=ticket", "kind"),
        ("?priority=urgent", "priority"),
        ("?sla=late", "sla"),
        ("?sort=title", "sort"),
        ("?created_from=31/12/2026", "created_from"),
        ("?created_to=2026-02-30", "created_to"),
        ("?limit=501", "limit"),
        ("?limit=ten", "limit"),
        ("?offset=-1", "offset"),
        ("?open=maybe", "open"),
    ],
)
def test_a_bad_filter_is_422_naming_it(api, desk, query, field):
    status, body = api.get("sam", f"/api/v1/tickets{query}")
    assert status == 422 and field in body["error"]["fields"], body


def test_unknown_names_are_an_empty_page(api, desk):
    assert numbers(api, "sam", "?status=Exploded") == []
    assert numbers(api, "sam", "?assignment_group=nobody&assignee=nobody") == []


def test_the_built_in_views_and_a_saved_view_of_ones_own(api, desk):
    status, views = api.get("sam", "/api/v1/views")
    assert [v["key"] for v in views] == ["my-open-work", "unassigned", "breached", "at-risk"]
    assert set(numbers(api, "sam", "?view=unassigned")) == {desk["printer"], desk["mail"], desk["vpn"]}
    assert numbers(api, "nina", "?view=unassigned") == []  # network-ops has none
    assert numbers(api, "sam", "?view=my-open-work") == []

    status, view = api.post("sam", "/api/v1/views", {"name": "Critical", "filters": {"priority": ["critical"]}})
    assert status == 201, view
    assert numbers(api, "sam", f"?view={view['key']}") == [desk["vpn"]]
    assert numbers(api, "sam", f"?view={view['key']}&kind=request") == []  # the page's own filter on top
    status, again = api.post("sam", "/api/v1/views", {"name": "Critical", "filters": {}})
    assert status == 409 and "name" in again["error"]["fields"]
    status, bad = api.post("sam", "/api/v1/views", {"name": "Odd", "filters": {"sla": "soon"}})
    assert status == 422 and "sla" in bad["error"]["fields"]
    assert api.get("sara", f"/api/v1/tickets?view={view['key']}")[0] == 404  # sam's own
    assert api.call("sara", "DELETE", f"/api/v1/views/{view['key']}")[0] == 404
    assert api.call("sam", "DELETE", f"/api/v1/views/{view['key']}")[0] == 204
    assert [v["key"] for v in api.get("sam", "/api/v1/views")[1]][-1] == "at-risk"


def test_the_csv_export_neutralises_formulas(api, desk):
    raise_incident(api, title='=HYPERLINK("http://evil")', description="@SUM(A1)")
    response = api.client.get(
        "/api/v1/tickets.csv?kind=incident", headers={"Authorization": f"Bearer {api.token('sam')}"}
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 4 and rows[0]["title"] == '\'=HYPERLINK("http://evil")'
    assert {r["number"] for r in rows[1:]} == {desk["printer"], desk["mail"], desk["vpn"]}


def test_a_bulk_comment_and_watch_say_which_rows_failed(api, desk):
    picked = [desk["printer"], desk["mail"], "INC9999999"]
    status, result = api.post("sam", "/api/v1/tickets/bulk", {"tickets": picked, "action": "watch"})
    assert status == 200, result
    assert result["done"] == [desk["printer"], desk["mail"]]
    assert result["failed"] == [{"ticket": "INC9999999", "status": 404, "error": "no ticket INC9999999"}]
    status, result = api.post(
        "alice",
        "/api/v1/tickets/bulk",
        {"tickets": [desk["printer"], desk["mail"]], "action": "comment", "body": "Any news?", "visibility": "public"},
    )
    assert status == 403 and "agents" in result["error"]["message"]  # a requester does one ticket at a time
    body = {
        "tickets": [desk["printer"], desk["request"]],
        "action": "comment",
        "body": "On it",
        "visibility": "internal",
    }
    status, result = api.post("sam", "/api/v1/tickets/bulk", body)
    assert result["done"] == [desk["printer"], desk["request"]]
    assert api.get("sam", f"/api/v1/tickets/{desk['printer']}/comments")[1][-1]["body"] == "On it"
    assert "On it" not in [c["body"] for c in api.get("alice", f"/api/v1/tickets/{desk['printer']}/comments")[1]]


def test_a_bulk_assignment_pushes_each_task_and_refuses_a_person_outside_the_group(api, desk):
    picked = [desk["printer"], desk["vpn"], desk["request"]]
    status, result = api.post(
        "sam", "/api/v1/tickets/bulk", {"tickets": picked, "action": "assign", "assignee": "sara"}
    )
    assert status == 200, result
    assert result["done"] == [desk["printer"], desk["vpn"]]
    assert [f["ticket"] for f in result["failed"]] == [desk["request"]]  # closed: it can no longer be edited
    assert set(numbers(api, "sam", "?assignee=sara")) == {desk["printer"], desk["vpn"]}
    status, mine = api.get("sara", "/api/v1/tasks?scope=mine")
    assert {t["ticket"] for t in mine} >= {desk["printer"], desk["vpn"]}
    status, result = api.post(
        "sam", "/api/v1/tickets/bulk", {"tickets": [desk["mail"]], "action": "assign", "assignee": "nina"}
    )
    assert result["failed"][0]["status"] == 422 and numbers(api, "sam", "?assignee=nina") == []


def test_a_bulk_action_over_500_tickets_is_refused(api, desk):
    status, body = api.post("sam", "/api/v1/tickets/bulk", {"tickets": [desk["mail"]] * 501, "action": "watch"})
    assert status == 422 and "tickets" in body["error"]["fields"]
