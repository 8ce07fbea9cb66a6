#!/bin/bash
# Runner release double: svc.sh only records that it was called; the roles write
# their own systemd unit instead of using it.
cd "$(dirname "$0")"
exec ./bin/Runner.Listener svc "$@"
