"""One module per `perfagent` command; each exposes `command` (or `app` for groups)."""
