#!/bin/bash
# Runner release double: config.sh as the real one (actions/runner
# src/Misc/layoutroot/config.sh) behaves: refuses root unless RUNNER_ALLOW_RUNASROOT
# is set ("Must not run with sudo" on stdout, exit 1), changes to its own directory,
# and hands "remove ..." (matched case-insensitively) or "configure ..." to
# bin/Runner.Listener, which parses the rest as the real listener does. The real
# script's ldd checks of .NET's libraries have nothing to check here.
user_id=$(id -u)
if [ "$user_id" -eq 0 ] && [ -z "$RUNNER_ALLOW_RUNASROOT" ]; then
    echo "Must not run with sudo"
    exit 1
fi
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" || exit 1
shopt -s nocasematch
if [[ "$1" == "remove" ]]; then
    ./bin/Runner.Listener "$@"
else
    ./bin/Runner.Listener configure "$@"
fi
