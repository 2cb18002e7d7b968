"""Work longer than the gateway allows: MCP tasks (the ``io.modelcontextprotocol/tasks`` extension) whose
records live in DynamoDB and whose work runs in a Lambda durable function (the worker, app/worker).

A request's whole path, in four files:
- ``app/surface/tasks.py``: the extension — which ``tools/call`` becomes a task, ``tasks/get``,
  ``tasks/update``, ``tasks/cancel`` on the wire;
- ``service.py``: create, read, answer and cancel a task for a principal (expiry, staleness, no oracle);
- ``store.py``: the DynamoDB item and its conditional transitions; ``engine.py``: the durable executions;
- ``app/worker/handler.py``: the durable function that does the work and records its outcome.

Nothing here imports MCP, HTTP or Starlette: the worker uses it too.
"""
