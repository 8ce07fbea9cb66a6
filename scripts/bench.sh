#!/usr/bin/env bash
# `make bench`: check the suite against this machine's baseline, or establish the
# baseline when this machine has none yet.
#
#   usage: scripts/bench.sh PERFAGENT SUITE STORE OUTPUT
#
# Exits with the agent's verdict (0 within limits, 1 a regression, 2 a usage error),
# so `make bench` fails on a regression.
set -uo pipefail

NO_COMPARABLE_BASELINE=3

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
"$perfagent" check --suite "$suite" --store "$store" --output-dir "$output"
status=$?
checked=true

if [[ $status -eq $NO_COMPARABLE_BASELINE ]]; then
    echo
    echo "bench: no baseline for this machine yet: establishing it (this run is the baseline)"
    "$perfagent" baseline --suite "$suite" --store "$store"
    status=$?
    checked=false
fi

elapsed=$((SECONDS - started))
echo
if [[ $checked == true && ($status -eq 0 || $status -eq 1) ]]; then
    echo "bench: artifacts:  $output/summary.md, and under $output/: reports/, exports/, analysis/, results/"
elif [[ $checked == false && $status -eq 0 ]]; then
    echo "bench: baseline established in $store; the next 'make bench' checks against it"
fi
echo "bench: baselines:  $store"
printf 'bench: benchmarking wall time: %dm%02ds\n' $((elapsed / 60)) $((elapsed % 60))
exit "$status"
