# The exporter kit's build. Every target installs what it needs first.
BIN        := node_modules/.bin
BUN        := $(BIN)/bun
DENO       := $(BIN)/deno
EXPORTER   := ./exporter
# Narrowest permissions for `deno run`: listen and connect on the network, read the
# process' own /proc files, read the EXPORTER_* settings.
DENO_PERMS := --no-prompt --allow-net --allow-read=/proc/self,/proc/stat --allow-env=EXPORTER_*
VERSION    := $(shell node -p 'require("./package.json").version')
REVISION   := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BUILD_FLAGS := --compile --minify --bytecode --format=esm \
               --define BUILD_VERSION='"$(VERSION)"' --define BUILD_REVISION='"$(REVISION)"'

.PHONY: all run run-deno test test-unit test-deno test-e2e build lint clean deps system-deps

all: build

deps: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	@echo ">> installing node modules"
	npm ci --no-audit --no-fund
	@touch $@

# Debian packages the end-to-end tests need: promtool and a Prometheus server.
system-deps:
	@command -v promtool >/dev/null && command -v prometheus >/dev/null || { \
	  echo ">> installing Debian packages (prometheus)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null; }

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
