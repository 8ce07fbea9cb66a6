#!/bin/bash
# Runner release double: run.sh starts the listener double, which waits for jobs.
cd "$(dirname "$0")"
exec ./bin/Runner.Listener run "$@"
