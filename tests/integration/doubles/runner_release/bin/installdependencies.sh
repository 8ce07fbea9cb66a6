#!/bin/bash
# Runner release double: the real script apt-installs the runner's .NET
# dependencies; this one records that it ran.
cd "$(dirname "$0")/.."
exec ./bin/Runner.Listener installdependencies "$@"
