"""The task worker: a Lambda durable function (``app.worker.handler.handler``) that does the work of MCP
tasks (app/tasks) outside any request — upgrades that take minutes, audits that read a whole account,
invokes of functions that run longer than the gateway waits.

It imports the domain (app/lambda_ops), the task records (app/tasks) and boto3 — never the MCP SDK,
Starlette or the sign-in stack (tests/test_layering.py and tests/worker check it): its cold start is a
fraction of the server's. ``handler`` runs the job named by the task's tool (``jobs``), through a
``TaskRun`` (``task``): checkpointed steps, progress in the task's statusMessage, questions as callbacks,
and one final step that records the outcome (and the audit line and metrics of a write).
"""
