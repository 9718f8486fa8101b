# csmarket: `make run` starts the marketplace on SQLite with demo data;
# `make test` runs every test suite it can on this machine and says which it
# skipped. Both do their own set-up.
SHELL := /bin/bash
# Build with the Go named by go.mod's toolchain line (the current patch
# release, with its security fixes), fetched through the module proxy the
# first time; GOTOOLCHAIN=local builds with the machine's own Go instead.
export GOTOOLCHAIN ?= auto
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := bin/csmarket
FRONTEND_SRC := $(shell find frontend/src frontend/index.html frontend/package.json frontend/package-lock.json frontend/vite.config.* frontend/tsconfig*.json -type f 2>/dev/null)

.PHONY: run build frontend test test-go test-browser bench clean fuzz lint

run: build
	@$(BIN) seed
	@echo "csmarket: http://localhost$${CSM_ADDR:-:8080}  (API under /api/v1, contract at /openapi.yaml)"
	@$(BIN) serve

build: frontend
	$(GO) build -o $(BIN) ./cmd/csmarket

# The frontend is built once into frontend/dist and embedded in the binary.
frontend: frontend/dist/index.html

frontend/dist/index.html: $(FRONTEND_SRC)
	@if command -v npm >/dev/null; then \
		cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run build; \
	else \
		echo "csmarket: npm not found; the API will serve a placeholder page at /" >&2; \
	fi

test: test-go test-browser
	@echo "make test: done; skipped suites, if any, are listed above"

# Go tests (with -race) on SQLite always; on PostgreSQL and Redis when
# TEST_DATABASE_URL and TEST_REDIS_URL are set; the levy's against
# stripe-mock (installed here when missing, started by the tests or .ci/run). gotestsum (pinned in go.mod)
# lists every skipped test with its reason; .test/skipped.txt keeps that list.
test-go: frontend
	@mkdir -p .test
	@command -v stripe-mock >/dev/null || [ -x "$$($(GO) env GOPATH)/bin/stripe-mock" ] || \
		$(GO) install github.com/stripe/stripe-mock@v0.203.0 || \
		echo "csmarket: stripe-mock could not be installed; the levy's Stripe tests will skip" >&2
	$(GO) vet ./...
	@set +e; $(GO) tool gotestsum --format pkgname --format-hide-empty-pkg --jsonfile .test/go.json \
		-- -race -count=1 ./... 2>&1 | tee .test/go.log; rc=$${PIPESTATUS[0]}; set -e; \
	awk '/^=== Skipped/ { f = 1; next } /^(DONE|=== Failed)/ { f = 0 } f' .test/go.log > .test/skipped.txt; \
	exit $$rc

# The frontend in a real Chromium against a real csmarket on SQLite.
test-browser: build
	@mkdir -p .test; rm -f .test/browser.ok
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "skipped: browser tests: /usr/bin/chromium is not installed (apt-get install -y chromium)"; \
	elif [ ! -f frontend/dist/index.html ]; then \
		echo "skipped: browser tests: the frontend is not built (npm not found)"; \
	else \
		cd frontend && npm run --silent gen:check && CSM_BIN=$(CURDIR)/$(BIN) npm test && touch $(CURDIR)/.test/browser.ok; \
	fi

# wrk on loopback: the cached directory against bare Gin handlers serving
# the same bytes, embedded and on PostgreSQL + Redis (TEST_DATABASE_URL's
# server takes scratch databases; TEST_REDIS_URL's database 14 is used);
# gzip'd against plain; 1,000 against 100,000 providers and serve's RSS;
# the comparison of 1,000 bids warm and cold; the mixed load on two
# replicas; then every public list and search uncached on both engines
# (-misses), and Go benchmarks. Each figure is printed beside its target.
bench: build
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	$(GO) build -o bin/csmbench ./cmd/csmbench
	bin/csmbench -bin $(BIN) -postgres "$${TEST_DATABASE_URL:-}" -redis "$${TEST_REDIS_URL:-}"
	bin/csmbench -misses
	$(GO) test -run '^$$' -bench 'FetchHit|ProvidersCachedHit|BareGin' -benchmem -benchtime 2000x ./internal/cache/ ./api/
	$(GO) test -run '^$$' -bench 'Compare' -benchmem ./internal/market/
	$(GO) test -run '^$$' -bench 'Comparison1000|ProvidersCachedHit' -benchmem -benchtime 20x ./api/

# Static checks, each at a pinned version installed into bin/tools:
# staticcheck, golangci-lint (.golangci.yml says what it leaves out and why)
# and govulncheck against a pinned snapshot of the Go vulnerability
# database, read from the module proxy and indexed locally (no network
# beyond the proxy); bump VULNDB_VERSION to take newer reports.
TOOLS := $(CURDIR)/bin/tools
STATICCHECK_VERSION := v0.8.2
GOLANGCI_LINT_VERSION := v2.15.0
GOVULNCHECK_VERSION := v1.9.0
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
lint:
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	GOBIN=$(TOOLS) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	GOBIN=$(TOOLS) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	@if [ ! -f $(TOOLS)/vulndb-$(VULNDB_VERSION)/index/db.json ]; then \
		osv="$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p')/data/osv"; \
		rm -rf $(TOOLS)/vulndb-$(VULNDB_VERSION); \
		$(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns "$$osv" -out $(TOOLS)/vulndb-$(VULNDB_VERSION); \
	fi
	$(TOOLS)/staticcheck ./...
	$(TOOLS)/golangci-lint run ./...
	$(TOOLS)/govulncheck -db file://$(TOOLS)/vulndb-$(VULNDB_VERSION) ./...
	@echo "make lint: staticcheck, golangci-lint and govulncheck clean"

clean:
	rm -rf bin .test frontend/node_modules

# Fault tests (PostgreSQL restarted and stopped, Redis slow then gone, a
# replica killed, SIGTERM under load) on a private PostgreSQL cluster that
# .ci/faults creates and drops.
.PHONY: faults
faults:
	@bash .ci/faults

# Native Go fuzzing, one target at a time for FUZZTIME each (go test takes
# one -fuzz target per run); the seed corpora already run in every go test.
# A failing input is written to the package's testdata/fuzz/<Target>/: fix
# the code and keep the file as a regression seed.
FUZZTIME ?= 60s
FUZZMINIMIZETIME ?= 10s
FUZZ_TARGETS := \
	internal/market:FuzzCursor internal/market:FuzzIdentifierCheck \
	internal/market:FuzzCompare internal/market:FuzzAuditCanonical \
	internal/ocds:FuzzBuild \
	api:FuzzDecodeJSON api:FuzzRequestBodies api:FuzzListCursors \
	api:FuzzIdempotencyKey api:FuzzIfMatch

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=./$${t%%:*}; name=$${t##*:}; \
		echo "fuzz: $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) \
			-fuzzminimizetime $(FUZZMINIMIZETIME) -parallel 1 $$pkg || exit 1; \
	done
