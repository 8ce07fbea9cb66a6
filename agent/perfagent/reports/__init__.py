"""Reports: the artifacts of a check (text, CSV, JSON, summary.md, report.html), the history
plot and the history dashboard."""
