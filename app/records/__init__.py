"""What the service writes down about the changes it makes, wherever they run (a tool call or the task
worker): one audit line per write (``audit``) and one outcome metric per upgrade (``outcomes``). Imports
nothing of MCP or HTTP: the caller is passed in."""
