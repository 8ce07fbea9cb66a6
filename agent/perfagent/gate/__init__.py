"""`perfagent gate`: the performance gate of a GitHub Actions job, as a command.

* `gate.run`: the flow (event -> mode, settings, doctor, baseline or check, outcome ->
  annotations, outputs and exit code);
* `gate.mode`: which mode an event gets;
* `gate.settings`: settings from the trusted side only (never the pull request's files);
* `gate.doctor`: the doctor policy;
* `gate.relative`: the hook to `perfagent ab` for the relative mode;
* `gate.agent`: the agent's objects the gate calls;
* `gate.github`: workflow commands and files, the one place that talks to GitHub;
* `gate.lock`: one benchmarking job per machine.
"""
