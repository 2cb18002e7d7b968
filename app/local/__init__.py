"""Local run on the production path: ``python -m app.local`` (``make serve``).

Each HTTP request becomes an API Gateway HTTP API (payload 2.0) event, handed to the Lambda handler on one
worker thread, as in one Lambda execution environment; by default against a sandbox AWS account (moto on
loopback, seeded with a realistic set of functions). Development only: nothing here ships to Lambda.
"""
