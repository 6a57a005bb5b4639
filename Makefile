# The exporter kit's build. Every target installs what it needs first.
BIN        := node_modules/.bin
BUN        := $(BIN)/bun
DENO       := $(BIN)/deno
EXPORTER   := ./exporter
# Narrowest permissions for `deno run`: the network (listen, and --healthcheck's
# request) and the EXPORTER_* settings. Deno refuses /proc/self to anything less than
# --allow-all, so process_virtual_memory_bytes and process_{open,max}_fds need -A.
DENO_PERMS := --no-prompt --allow-net --allow-env=EXPORTER_*
VERSION    := $(shell node -p 'require("./package.json").version')
REVISION   := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BUILD_FLAGS := --compile --minify --bytecode --format=esm \
               --define BUILD_VERSION='"$(VERSION)"' --define BUILD_REVISION='"$(REVISION)"'

.PHONY: all run run-deno test test-unit test-deno test-e2e build lint clean deps system-deps bench

all: build

deps: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	@echo ">> installing node modules"
	npm ci --no-audit --no-fund
	@touch $@

# Debian packages the end-to-end tests need: promtool and a Prometheus server, and
# python3-prometheus-client, an OpenMetrics parser independent of ours (the e2e suite
# runs /usr/bin/python3 by name, as PATH's python3 may be one without the module).
system-deps:
	@command -v promtool >/dev/null && command -v prometheus >/dev/null \
	  && /usr/bin/python3 -c 'import prometheus_client.openmetrics.parser' 2>/dev/null || { \
	  echo ">> installing Debian packages (prometheus, python3-prometheus-client)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus python3-prometheus-client >/dev/null; }

run: deps
	@echo ">> running the exporter on Bun"
	$(BUN) run main.ts

run-deno: deps
	@echo ">> running the exporter on Deno"
	$(DENO) run $(DENO_PERMS) main.ts

build: deps
	@echo ">> building $(EXPORTER)"
	$(BUN) build $(BUILD_FLAGS) main.ts --outfile $(EXPORTER)

test: test-unit test-deno test-e2e

test-unit: deps
	@echo ">> unit tests on Bun"
	$(BUN) test --path-ignore-patterns 'e2e/**'

test-deno: deps
	@echo ">> unit tests on Deno"
	$(DENO) test --no-prompt --allow-all --ignore=e2e,node_modules

test-e2e: build system-deps
	@echo ">> end-to-end tests (binary, deno run, promtool, Prometheus)"
	$(BUN) test e2e/

lint: deps
	@echo ">> type checking"
	$(DENO) check main.ts collector.ts collector_test.ts prometheus/ promhttp/ web/

clean:
	@echo ">> cleaning"
	rm -rf $(EXPORTER) node_modules .tmp

# Side-by-side benchmarks against the Go anchor (../shared/anchors/go-exporter); about
# 5 minutes, writes BENCHMARKS.md. The baselines are compiled with the exporter's flags.
bench: build
	@echo ">> benchmarking against the Go anchor"
	@mkdir -p .bench
	$(BUN) build $(BUILD_FLAGS) bench/hello.ts --outfile .bench/hello
	$(BUN) build $(BUILD_FLAGS) bench/hello_serve.ts --outfile .bench/hello_serve
	$(BUN) build $(BUILD_FLAGS) bench/series_server.ts --outfile .bench/series_server
	DENO=$(DENO) DENO_PERMS='$(DENO_PERMS)' $(BUN) bench/run.ts
