"""Reports: the artifacts of a check (text, CSV, JSON, summary.md) and the history plot."""
