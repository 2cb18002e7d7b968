"""Security material the server needs at run time (the request-state key ring)."""
