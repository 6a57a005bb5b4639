# The exporter kit's build. Every target installs what it needs first.
BIN        := node_modules/.bin
BUN        := $(BIN)/bun
DENO       := $(BIN)/deno
EXPORTER   := ./exporter
# Narrowest permissions for `deno run`: the network (listen, and --healthcheck's
# request) and the EXPORTER_* settings. Deno refuses /proc/self to anything less than
# --allow-all, so process_virtual_memory_bytes and process_{open,max}_fds need -A.
DENO_PERMS := --no-prompt --allow-net --allow-env=EXPORTER_*,LOG_TOKENS,LOG_STREAM --allow-read=web/_bcrypt_worker.ts
VERSION    := $(shell node -p 'require("./package.json").version')
REVISION   := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# build.flags holds the compile flags, for this file and the Dockerfile alike (it
# says why each); the version and revision are defined here as the Dockerfile does.
BUILD_FLAGS := $(shell grep -e '^--' build.flags) \
               --define BUILD_VERSION='"$(VERSION)"' --define BUILD_REVISION='"$(REVISION)"'

.PHONY: all run run-deno test test-unit test-deno test-e2e build lint clean deps system-deps bench image test-image test-deploy package test-package test-example

all: build

deps: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	@echo ">> installing node modules"
	npm ci --no-audit --no-fund
	@touch $@

# Debian packages the tests need: promtool and a Prometheus server;
# python3-prometheus-client, an OpenMetrics parser independent of ours (the e2e suite
# runs /usr/bin/python3 by name, as PATH's python3 may be one without the module);
# the Pushgateway that e2e/pushgateway_test.ts pushes to; golang-go and Debian's
# client_golang, with which prometheus/go_corpus_test.ts builds bench/go/corpus (GOPATH
# mode, as the bench's Go reference) to compare numbers with Go's; protoc
# (protobuf-compiler), the independent decoder of prometheus/protobuf_test.ts.
system-deps:
	@command -v promtool >/dev/null && command -v prometheus >/dev/null && command -v go >/dev/null \
	  && command -v protoc >/dev/null && test -x /usr/bin/prometheus-pushgateway \
	  && [ -d $(GOCODE)/src/github.com/prometheus/client_golang ] \
	  && /usr/bin/python3 -c 'import prometheus_client.openmetrics.parser' 2>/dev/null || { \
	  echo ">> installing Debian packages (prometheus, prometheus-pushgateway, python3-prometheus-client, golang-go, golang-github-prometheus-client-golang-dev, protobuf-compiler)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus prometheus-pushgateway python3-prometheus-client \
	    golang-go golang-github-prometheus-client-golang-dev protobuf-compiler >/dev/null; }

run: deps
	@echo ">> running the exporter on Bun"
	$(BUN) run main.ts $(ARGS)

run-deno: deps
	@echo ">> running the exporter on Deno"
	$(DENO) run $(DENO_PERMS) main.ts $(ARGS)

build: deps
	@echo ">> building $(EXPORTER)"
	$(BUN) build $(BUILD_FLAGS) main.ts --outfile $(EXPORTER)

# The npm package as a user gets it: `npm pack` runs package.json's prepack, which
# builds dist/ (ESM JavaScript and .d.ts, tsconfig.build.json) for Node and for Deno
# through npm; Bun takes the TypeScript sources (the "bun" export condition).
PACKAGE_DIR := .tmp/package

package: deps
	@echo ">> packing the npm package into $(PACKAGE_DIR)"
	@rm -rf $(PACKAGE_DIR) && mkdir -p $(PACKAGE_DIR)
	npm pack --silent --pack-destination $(PACKAGE_DIR)

test: lint test-unit test-deno test-package test-example test-e2e test-image test-deploy test-reliability

test-unit: deps system-deps
	@echo ">> unit tests on Bun"
	KIT_REQUIRE_TOOLS=1 $(BUN) test --path-ignore-patterns 'e2e/**' --path-ignore-patterns 'deploy/**' --path-ignore-patterns 'examples/**'

test-deno: deps system-deps
	@echo ">> unit tests on Deno"
	KIT_REQUIRE_TOOLS=1 $(DENO) test -P=test --ignore=e2e,deploy,node_modules,examples

test-e2e: build system-deps
	@echo ">> end-to-end tests (binary, deno run, promtool, Prometheus, Pushgateway)"
	$(BUN) test e2e/ --path-ignore-patterns 'e2e/package_test.ts'

# The packed package in a fresh project outside the repository: a two-file exporter
# importing it by name, run on Bun, deno run, Node 20 and as a compiled binary (the
# README's "Use it in your own project"). The test runs `make package` itself.
test-package: deps
	@echo ">> package tests (npm pack, installed elsewhere, on Bun, Deno, Node and compiled)"
	$(BUN) test e2e/package_test.ts

# examples/upstream_exporter, an exporter of its own on the packed kit: its Makefile
# packs and installs the kit, builds ./upstream_exporter and runs its tests on Bun and
# Deno (about 15 s).
test-example: deps
	@echo ">> the example exporter (examples/upstream_exporter): build and tests on Bun and Deno"
	$(MAKE) -C examples/upstream_exporter test

# The container image (Dockerfile), with docker or podman: the first that answers
# `info`, as a CLI without its daemon cannot build. Without one it says so and
# succeeds, so that `make` works on machines without containers. podman gets
# --format docker, as OCI images drop HEALTHCHECK. The Bun version is package.json's.
IMAGE       ?= ts-exporter-kit:$(VERSION)
BUN_VERSION := $(shell node -p 'require("./package.json").devDependencies.bun')

image:
	@echo ">> building the container image $(IMAGE)"
	@engine=$$(for e in docker podman; do command -v $$e >/dev/null && $$e info >/dev/null 2>&1 && { echo $$e; break; }; done); \
	if [ -z "$$engine" ]; then \
	  echo ">> no working container engine (docker or podman missing, or its daemon unreachable): image NOT built"; \
	  echo ">> 'make test-image' checks the runtime stage's contents without one"; \
	  exit 0; \
	fi; \
	format=; [ "$$engine" = podman ] && format="--format docker"; \
	set -x; $$engine build $$format --build-arg BUN_VERSION=$(BUN_VERSION) \
	  --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) \
	  --build-arg CREATED=$$(date -u +%Y-%m-%dT%H:%M:%SZ) -t $(IMAGE) .

# Runs ./exporter in a root laid out like the image's runtime stage, as uid 65532 in
# its own mount, PID and network namespaces, and the Dockerfile's HEALTHCHECK the way
# Docker runs it (needs root); no container engine needed.
test-image: build
	@echo ">> testing the runtime image's contents"
	bash deploy/test_image.sh $(EXPORTER)

test-deploy: build system-deps
	@echo ">> deployment tests (Kubernetes manifests, Prometheus config, Dockerfile)"
	EXPORTER=$(EXPORTER) $(BUN) test deploy/

# The reliability suite (reliability/, RELIABILITY.md): hostile input through the
# encoders, faulty collectors, load, slow and hostile clients, shutdown under load,
# each on the binary and on `deno run`. The fast mode (~2 min) is part of `make test`;
# the long mode runs the 60 s load and watches slow connections for 75 s, then
# rewrites the table of RELIABILITY.md from that one run. RELIABILITY_SUITES narrows a
# run to some files. The fixture is compiled with the exporter's own flags.
.PHONY: test-reliability test-reliability-long reliability-deps
RELIABILITY_SUITES ?= $(sort $(wildcard reliability/*_suite.ts))
RELIABILITY_FIXTURE := .tmp/reliability/fixture

reliability-deps: system-deps
	@command -v wrk >/dev/null || { \
	  echo ">> installing wrk"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	@mkdir -p .tmp/reliability
	@echo ">> building the reliability fixture $(RELIABILITY_FIXTURE)"
	@$(BUN) build $(BUILD_FLAGS) reliability/testdata/fixture_exporter.ts --outfile $(RELIABILITY_FIXTURE) >/dev/null

test-reliability: build reliability-deps
	@echo ">> reliability suite, fast mode (figures in .tmp/reliability/figures-fast.jsonl)"
	@rm -f .tmp/reliability/figures-fast.jsonl
	$(BUN) test $(addprefix ./,$(RELIABILITY_SUITES))

test-reliability-long: build reliability-deps
	@echo ">> reliability suite, long mode (~11 min); rewrites the tables in RELIABILITY.md"
	@rm -f .tmp/reliability/figures-long.jsonl
	RELIABILITY_LONG=1 $(BUN) test $(addprefix ./,$(RELIABILITY_SUITES)); status=$$?; \
	  $(BUN) reliability/report.ts .tmp/reliability/figures-long.jsonl RELIABILITY.md && exit $$status

# The whole tree: formatting and lint rules as deno.json sets them, type checks by
# Deno and by tsc (with Bun's types), and promtool's lint of the live output.
lint: build system-deps
	@echo ">> deno fmt --check, deno lint"
	$(DENO) fmt --check
	$(DENO) lint
	@echo ">> type checking (deno check, tsc --noEmit)"
	$(DENO) check
	$(BIN)/tsc --noEmit -p tsconfig.json
	@echo ">> deno doc --lint of the public entry points (what JSR checks: JSDoc, no private types)"
	$(DENO) doc --lint $$(node -p 'Object.values(require("./deno.json").exports).join(" ")')
	@echo ">> promtool check metrics on the live output"
	bash scripts/promtool_lint.sh $(EXPORTER)

clean:
	@echo ">> cleaning"
	rm -rf $(EXPORTER) node_modules .tmp dist

# Side-by-side benchmarks against the Go reference (bench/go/main.go, the tutorial
# exporter on Debian's client_golang); about 5 minutes, rewrites BENCHMARKS.md. The
# baselines are compiled with the exporter's flags; bench/run.ts reads DENO_PERMS from
# this file. A reference that cannot be built fails the run rather than skipping rows.
GO_REFERENCE := .bench/go-reference
GOCODE       := /usr/share/gocode

bench: build bench-deps $(GO_REFERENCE)
	@echo ">> benchmarking against the Go reference"
	$(BUN) build $(BUILD_FLAGS) bench/hello.ts --outfile .bench/hello
	$(BUN) build $(BUILD_FLAGS) bench/hello_serve.ts --outfile .bench/hello_serve
	$(BUN) build $(BUILD_FLAGS) bench/hello_model.ts --outfile .bench/hello_model
	$(BUN) build $(BUILD_FLAGS) bench/series_server.ts --outfile .bench/series_server
	DENO=$(DENO) $(BUN) bench/run.ts

.PHONY: bench-deps
bench-deps:
	@command -v wrk >/dev/null && command -v curl >/dev/null && command -v go >/dev/null \
	  && [ -d $(GOCODE)/src/github.com/prometheus/client_golang ] || { \
	  echo ">> installing Debian packages (wrk, curl, golang-go, golang-github-prometheus-client-golang-dev)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    wrk curl golang-go golang-github-prometheus-client-golang-dev >/dev/null; }

# GOPATH mode against the Debian source packages: no module download, no network.
$(GO_REFERENCE): bench/go/main.go | bench-deps
	@echo ">> building the Go reference $(GO_REFERENCE) (client_golang from $(GOCODE))"
	@mkdir -p .bench
	cd bench/go && GOPATH=$(GOCODE) GO111MODULE=off GOFLAGS= GOCACHE=$(abspath .bench/gocache) \
	  go build -o $(abspath $(GO_REFERENCE)) .
