"""The HTTP edge: what a request is as HTTP, decided before the MCP SDK sees it.

``edge`` (path, Host/Origin, CORS, method, headers, body), ``origins`` (the Host/Origin policy), ``errors``
(JSON-RPC error bodies with the spec's HTTP status), ``lifespan`` (the SDK's lifespan once per execution
environment, each invocation drained), ``observability`` (one log line and metrics per request).
Imports nothing of the MCP surface or the domain.
"""
