"""Work done outside a request: the job table, the worker loop, retries and failed jobs, the mail outbox."""
