"""Tickets (incidents, requests, problems), one module for each thing a reader looks for:

access (who may see a ticket, lookups), queries (lists), intake (raising), work (a ticket's tasks), comments,
watchers, problems (links, major incidents), sync (the ticket row in step with a run), diagram_events (what a
ticketEvent property means), journal (audit events and comments written), sla (the clock as people read it),
and coordination: the one loop that follows a run's consequences until none are left.
"""
