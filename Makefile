# tensionmap: `make run` sets everything up and serves the demo; `make test` runs every test.
# `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN       := bin/tensionmap
GO        ?= go
LDFLAGS   := -s -w -X main.version=$(VERSION)
DATA_DIR  ?= .data## where make run keeps its cluster (DATA_DIR/pg), the pseudonymisation key and the demo logins
PG_PORT   ?= 55432## port of make run's cluster (DATA_DIR/pg) on localhost
LISTEN    ?= :8080## address make run serves on
DEMO_ROWS ?= 50000## reports in make run's demo
DEMO_YEARS ?= 5## years the demo spans
ifdef TENSIONMAP_TEST_PG_PORT
TEST_PG_PORT ?= $(TENSIONMAP_TEST_PG_PORT)
endif
TEST_PG_PORT ?= 55433## port of the tests' own cluster (.data/test-pg), also read from TENSIONMAP_TEST_PG_PORT
BENCH_ROWS ?= 1000000## reports in make bench's runs
SCALE_ROWS ?= 10000000## reports in make bench-scale's run
SCALE_YEARS ?= 10## years make bench-scale's reports span
SCALE_LISTEN ?= :8094## loopback port of the serve process make bench-scale measures

# The tests' own cluster: never the one make run serves from.
TEST_PG_DIR := .data/test-pg

export TENSIONMAP_DATA_DIR := $(DATA_DIR)
export TENSIONMAP_TEST_PG_PORT := $(TEST_PG_PORT)

UI_DIR    := web/ui
UI_SRC    := $(wildcard $(UI_DIR)/src/*) $(UI_DIR)/build.mjs $(UI_DIR)/package.json
UI_OUT    := web/static/dist/map.js

.PHONY: help build ui ui-deps run db-up db-stop test-db-stop migrate demo test test-deps test-go vet fuzz bench bench-scale reliability reference clean

help: ## list the targets and the variables they take
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-13s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "Variables (e.g. make run PG_PORT=55440 LISTEN=:8081, make test TEST_PG_PORT=55441):"
	@awk '/^[A-Z_]+ +\?= *[^$$ ]*## / {name = $$1; sub(/^[^?]*\?= */, ""); split($$0, p, "## "); \
		printf "  \033[1m%-13s\033[0m %s (default %s)\n", name, p[2], p[1]}' $(MAKEFILE_LIST)

build: ui ## build the binary at bin/tensionmap (the map's bundle embedded)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/tensionmap

ui: $(UI_OUT) ## bundle the map page (MapLibre GL JS, esbuild) into web/static/dist

ui-deps: $(UI_DIR)/node_modules/.package-lock.json ## install the map's Node packages (npm ci in web/ui)

$(UI_DIR)/node_modules/.package-lock.json: $(UI_DIR)/package-lock.json $(UI_DIR)/package.json
	@command -v npm >/dev/null || scripts/test-deps.sh
	cd $(UI_DIR) && npm ci --no-audit --no-fund

$(UI_OUT): $(UI_SRC) $(UI_DIR)/node_modules/.package-lock.json
	cd $(UI_DIR) && npm run build

db-up: build ## install PostGIS if missing and start make run's cluster in DATA_DIR/pg on PG_PORT
	@$(BIN) db up --port $(PG_PORT) > /dev/null

db-stop: build ## stop make run's cluster (DATA_DIR/pg)
	$(BIN) db stop --port $(PG_PORT)

test-db-stop: build ## stop the tests' cluster (.data/test-pg)
	$(BIN) db stop --dir $(TEST_PG_DIR) --port $(TEST_PG_PORT)

run: ## install what is missing, build, start the database, load the demo and serve it on LISTEN (http://localhost:8080), each stage announced and timed
	@BIN=$(BIN) GO=$(GO) LDFLAGS="$(LDFLAGS)" MAKE="$(MAKE)" UI_DIR=$(UI_DIR) UI_OUT=$(UI_OUT) \
	PG_PORT=$(PG_PORT) LISTEN=$(LISTEN) DEMO_ROWS=$(DEMO_ROWS) DEMO_YEARS=$(DEMO_YEARS) \
	exec scripts/run.sh

test: vet test-deps ui test-go ## vet and run every test: unit, integration (real PostGIS, the tests' own cluster on TEST_PG_PORT), browser (headless Chromium), end to end

test-deps: ## install what the tests drive: Debian's chromium, GDAL's ogrinfo and poppler's pdf tools
	@scripts/test-deps.sh

vet: ## go vet and gofmt
	@fmt=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.data/*')); \
	if [ -n "$$fmt" ]; then echo "gofmt would change: $$fmt"; exit 1; fi
	$(GO) vet ./...

test-go:
	@if [ "$(TEST_PG_PORT)" = "$(PG_PORT)" ]; then \
		echo "TEST_PG_PORT and PG_PORT are both $(PG_PORT): the tests' cluster needs a port of its own"; exit 2; fi
	$(GO) test -count=1 -timeout 30m ./...

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	@for p in ./geo/ ./tiles/ ./web/; do for t in $$($(GO) test -list 'Fuzz.*' $$p | grep ^Fuzz); do \
		echo "== $$p $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $${FUZZTIME:-30s} $$p || exit 1; done; done

bench: build ## run the benchmarks and print the ratio tables
	$(GO) test -run '^$$' -bench . -benchmem ./geo/... ./postgis/... ./tension/...
	$(GO) test -count=1 -run '^TestGiStarCubeVersusR$$' -v ./tension -args -gistar-vs-r | grep -v '^=== RUN'
	$(GO) test -run '^$$' -bench '^BenchmarkScan$$' -benchtime 1x -cpu 2 ./tension
	@url=$$($(BIN) db up --port $(PG_PORT)) && TENSIONMAP_DATABASE_URL="$$url" $(BIN) bench ingest --rows $(BENCH_ROWS)
	@url=$$($(BIN) db up --port $(PG_PORT)) && TENSIONMAP_DATABASE_URL="$$url" $(BIN) bench tiles --rows $(BENCH_ROWS)
	@url=$$($(BIN) db up --port $(PG_PORT)) && TENSIONMAP_DATABASE_URL="$$url" $(BIN) bench engine --rows 200000
	@url=$$($(BIN) db up --port $(PG_PORT)) && TENSIONMAP_DATABASE_URL="$$url" $(BIN) bench api --rows $(BENCH_ROWS)
	$(GO) test -run '^$$' -bench '^BenchmarkTileRequest$$' -benchmem ./web

bench-scale: build ## a decade of demo reports (SCALE_ROWS over SCALE_YEARS) through everything at once; one table, also into docs/performance.md
	@url=$$($(BIN) db up --port $(PG_PORT)) && TENSIONMAP_DATABASE_URL="$$url" $(BIN) bench scale --rows $(SCALE_ROWS) --years $(SCALE_YEARS) \
		--listen $(SCALE_LISTEN) --doc docs/performance.md

RELIABILITY_SHORT ?=
SOAK ?=
reliability: build ## attack the real binary (kills, restarts, soak, hostile files, slow clients, roles, inference) and write docs/reliability.md; RELIABILITY_SHORT=1 for the short version, SOAK=10m for the soak's length
	TENSIONMAP_RELIABILITY=1 TENSIONMAP_RELIABILITY_SHORT=$(RELIABILITY_SHORT) TENSIONMAP_SOAK=$(SOAK) \
	TENSIONMAP_BIN=$(CURDIR)/$(BIN) TENSIONMAP_RELIABILITY_REPORT=$(CURDIR)/docs/reliability.md TENSIONMAP_ATTACK_SIZE=large \
	$(GO) test -count=1 -timeout 60m -run '^TestReliability$$' -v ./cmd/tensionmap | grep -E '^(=== RUN|--- |\s+reliability_|ok|FAIL|PASS)' ; \
	status=$${PIPESTATUS[0]}; echo "docs/reliability.md written"; exit $$status

reference: ## regenerate the reference values in testdata/ with PROJ, R and h3-js (installs them if missing)
	scripts/bng-reference.sh
	scripts/r-reference.sh
	scripts/h3-reference.sh

clean: ## remove build output (the clusters in .data/ stay; `make db-stop` and `make test-db-stop` stop them)
	rm -rf bin test-output web/static/dist
