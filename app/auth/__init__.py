"""Sign-in: the function is an OAuth 2.1 protected resource (MCP authorization, RFC 9728, RFC 8707).

Bearer tokens are verified here (PyJWT, keys from the issuer's JWKS), the scopes a JSON-RPC call needs are
decided here, and the discovery documents are built here. The HTTP edge (app/web) calls in; nothing here
imports the MCP surface or the domain.
"""

from __future__ import annotations

# SnapStart priming (issue #8) calls the ASGI chain in-process before the snapshot with this key set to
# True in the ASGI scope. Mangum builds the scope from fixed keys (type, method, path, headers, aws.event,
# ...): no API Gateway event can set it. The gate admits such a request as a read-only principal.
PRIMING_KEY = "lambda_ops.priming"
PRIMING_CLIENT_ID = "snapstart-priming"
