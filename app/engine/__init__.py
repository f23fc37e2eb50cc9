"""The process engine: the only package that imports SpiffWorkflow.

Other packages use `app.engine.service` (deploy, start, complete_task, deliver_message) and the
models of `app.engine.models`; no SpiffWorkflow object leaves this package.
"""
