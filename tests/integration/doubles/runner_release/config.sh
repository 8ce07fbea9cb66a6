#!/bin/bash
# Runner release double: config.sh hands its arguments to the listener double,
# as the real config.sh hands them to bin/Runner.Listener.
set -e
cd "$(dirname "$0")"
if [ "$(id -u)" = "0" ] && [ -z "${RUNNER_ALLOW_RUNASROOT:-}" ]; then
    echo "Must not run with sudo" >&2
    exit 1
fi
if [ "${1:-}" = "remove" ]; then
    shift
    exec ./bin/Runner.Listener remove "$@"
fi
exec ./bin/Runner.Listener configure "$@"
