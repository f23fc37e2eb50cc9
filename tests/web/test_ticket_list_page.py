"""The ticket list page without JavaScript: filters and search in the query string, views, the CSV export, bulk
actions that name the rows they could not do, and the auditor's way from their home to a ticket's audit page."""

import re

from tests.tickets.test_incident_api import raise_incident


def rows(html: str) -> list[str]:
    return re.findall(r'<td><a href="/tickets/([A-Z]{3}\d{7})">', html)


def test_an_agent_filters_and_searches_the_list(api, signed_in):
    printer = raise_incident(api, title="Printers jammed", description="Tray 2")["number"]
    mail = raise_incident(api, user="ramon", title="Mail is down", impact="low", urgency="low")["number"]
    sam = signed_in("sam")
    page = sam.get("/tickets").get_data(as_text=True)
    assert rows(page) == [mail, printer]
    assert f'name="ticket" value="{mail}"' in page  # agents pick rows for bulk actions
    assert rows(sam.get("/tickets?q=printer").get_data(as_text=True)) == [printer]
    assert rows(sam.get("/tickets?priority=low").get_data(as_text=True)) == [mail]
    assert rows(sam.get("/tickets?view=unassigned").get_data(as_text=True)) == [mail, printer]


def test_a_bad_filter_is_said_on_the_page(api, signed_in):
    raise_incident(api)
    response = signed_in("sam").get("/tickets?created_from=yesterday")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "created_from" in page and "is not a date" in page and rows(page) == []


def test_a_view_is_saved_from_the_page_and_opened_again(api, signed_in):
    raise_incident(api, title="VPN drops", impact="high", urgency="high")
    raise_incident(api, title="Mail is down", impact="low", urgency="low")
    sam = signed_in("sam")
    response = sam.post("/tickets/views", data={"name": "Critical ones", "priority": "critical"})
    assert response.status_code == 302
    page = sam.get(response.headers["Location"]).get_data(as_text=True)
    assert "Critical ones" in page and rows(page) == ["INC0000001"]
    assert "Critical ones" not in signed_in("sara").get("/tickets").get_data(as_text=True)


def test_the_csv_export_follows_the_filters(api, signed_in):
    raise_incident(api, title="VPN drops", impact="high", urgency="high")
    raise_incident(api, title="Mail is down", impact="low", urgency="low")
    response = signed_in("sam").get("/tickets.csv?priority=low")
    assert response.headers["Content-Disposition"].startswith("attachment")
    lines = response.get_data(as_text=True).splitlines()
    assert len(lines) == 2 and lines[1].startswith("INC0000002,incident,Mail is down")


def test_a_bulk_comment_names_each_ticket_it_could_not_do(api, signed_in):
    number = raise_incident(api)["number"]
    sam = signed_in("sam")
    response = sam.post(
        "/tickets/bulk",
        data={"ticket": [number, "INC0000099"], "action": "comment", "body": "Looking", "back": "/tickets?q=mail"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/tickets?q=mail"
    page = sam.get("/tickets").get_data(as_text=True)
    assert "Done on 1 ticket." in page and "INC0000099: not done: no ticket INC0000099" in page
    assert api.get("sam", f"/api/v1/tickets/{number}/comments")[1][-1]["body"] == "Looking"
    elsewhere = sam.post("/tickets/bulk", data={"ticket": number, "action": "watch", "back": "https://evil.example/"})
    assert elsewhere.headers["Location"] == "/tickets"  # never sent off the site


def test_an_auditor_lands_on_the_list_and_reaches_a_tickets_audit_page_by_links(api, signed_in):
    number = raise_incident(api)["number"]
    audrey = signed_in("audrey")
    home = audrey.get("/")
    assert home.headers["Location"] == "/tickets"
    page = audrey.get("/tickets").get_data(as_text=True)
    assert 'name="ticket"' not in page  # reading, not acting
    link = re.search(rf'href="(/audit/tickets/{number})"', page).group(1)
    assert audrey.get(link).status_code == 200
