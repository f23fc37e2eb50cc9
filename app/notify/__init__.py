"""Notifications: mails written to the outbox in the transaction that causes them, sent by the worker."""
