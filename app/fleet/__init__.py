"""The fleet (issue #14): the accounts and regions one deployment answers for, and how it reaches them.

Between the MCP surface and the domain: ``app.surface`` and ``app.worker`` ask a ``Fleet`` for the
``LambdaOps`` of a ``Target`` (an account and region); ``app.lambda_ops`` knows nothing of accounts.
"""
