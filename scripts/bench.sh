#!/usr/bin/env bash
# `make bench`: check the suite against this machine's baseline, or establish the
# baseline when this machine has none yet: the gate's check mode with its no-baseline
# policy `establish` (agent/perfagent/gate/run.py decides; this script only calls it).
#
#   usage: scripts/bench.sh PERFAGENT SUITE STORE OUTPUT
#
# Exits with the agent's verdict (perfagent.errors.ExitCode: 0 within limits or baseline
# stored, 1 a regression, 2 a usage error), so `make bench` fails on a regression.
set -uo pipefail

if [[ $# -ne 4 ]]; then
    echo "usage: $0 PERFAGENT SUITE STORE OUTPUT" >&2
    exit 2
fi
perfagent=$1 suite=$2 store=$3 output=$4

if [[ ! -x "$perfagent" ]]; then
    echo "bench: no perfagent at $perfagent (run 'make venv')" >&2
    exit 2
fi

started=$SECONDS
echo "bench: checking suite $suite against this machine's baseline in $store"
# A developer's machine: no doctor (make bench never enforced it), no machine lock, the
# store as given, and one suite run when the baseline is established (perfagent's default).
"$perfagent" gate --mode check --no-baseline establish --doctor skip --lock-file "" \
    --no-per-repository-store --baseline-runs 1 \
    --suite "$suite" --store "$store" --output-dir "$output"
status=$?

elapsed=$((SECONDS - started))
echo
echo "bench: artifacts:  $output (summary.md, reports/, exports/, analysis/, results/, baselines/)"
echo "bench: baselines:  $store"
printf 'bench: benchmarking wall time: %dm%02ds\n' $((elapsed / 60)) $((elapsed % 60))
exit "$status"
