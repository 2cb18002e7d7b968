"""Real MCP clients against ``python -m app.local`` (the ``make serve`` path): the Python SDK's client, MCP
Inspector's CLI and the official conformance suite. The npm clients come from tests/clients
(``make node-deps``).
"""
