# Sockerless — build, test and benchmark entry points.
# `make test` is the test command CI runs (through .ci/run).

GO ?= go
CACHE ?= $(HOME)/.cache/sockerless
export SOCKERLESS_CACHE := $(CACHE)

.PHONY: all build test unit reference-engine engine fidelity conformance clients verify-busybox bench lint

all: build

build:
	$(GO) build ./...

# The whole suite: static checks, the BusyBox rebuild check, the two private
# reference engines with offline test images, the third-party clients, then
# every Go test with -race (including the differential fidelity suite), then
# the differential suite on the docker backend; the two fidelity figures are
# printed last.
test: lint verify-busybox reference-engine engine clients unit

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# Rebuild busybox.wasm from the recipe and compare with the committed bytes.
verify-busybox:
	third_party/busybox/verify.sh

# Start the reference dockerd (Debian docker.io) and load the test images.
reference-engine:
	hack/ci-deps.sh
	hack/dockerd.sh start
	eval "$$(hack/dockerd.sh env)" && DOCKER_HOST=$$SOCKERLESS_TEST_DOCKER_HOST hack/testimages.sh

# Install the third-party clients the client tests drive (act,
# gitlab-ci-local, ...): pinned versions, cached under $(CACHE)/clients.
clients:
	hack/clients.sh install

# The current Docker engine (moby v2), built once from the Go module proxy
# into $(CACHE)/engine: the reference of integration/differential.
engine:
	hack/engine.sh start
	eval "$$(hack/engine.sh env)" && DOCKER_HOST=$$SOCKERLESS_TEST_ENGINE_HOST hack/testimages.sh

# The client tests write their pass counts per client and engine to
# clients.out, the differential suite its fidelity report to fidelity.out
# (go test shows a passing package's output only with -v). The CI-runner
# corpora (integration/clients) run each case on sockerless and on dockerd:
# more than go test's default 10 minutes. go test ./... runs the
# differential suite on the memory backend; it then runs once more on the
# docker backend over the same engine (after, not alongside: each run
# cleans up the engine's labelled objects), report in fidelity-docker.out.
unit:
	rm -f clients.out fidelity.out fidelity-docker.out; eval "$$(hack/dockerd.sh env)" && eval "$$(hack/clients.sh env)" && \
	eval "$$(hack/engine.sh env)" && \
	SOCKERLESS_CLIENTS_REPORT=$(CURDIR)/clients.out SOCKERLESS_FIDELITY_REPORT=$(CURDIR)/fidelity.out \
	$(GO) test -race -count=1 -timeout 45m ./...; \
	status=$$?; \
	SOCKERLESS_TEST_BACKEND=docker SOCKERLESS_FIDELITY_REPORT=$(CURDIR)/fidelity-docker.out \
	$(GO) test -race -count=1 -run TestDifferential ./integration/differential/ || status=1; \
	cat clients.out 2>/dev/null; grep -h '^fidelity' fidelity.out fidelity-docker.out 2>/dev/null; exit $$status

# Only the differential suite, on both backends, with the full reports.
fidelity: engine
	eval "$$(hack/engine.sh env)" && SOCKERLESS_FIDELITY_REPORT=$(CURDIR)/fidelity.out \
	$(GO) test -count=1 -run TestDifferential ./integration/differential/; \
	status=$$?; cat fidelity.out 2>/dev/null; \
	SOCKERLESS_TEST_BACKEND=docker SOCKERLESS_FIDELITY_REPORT=$(CURDIR)/fidelity-docker.out \
	$(GO) test -count=1 -run TestDifferential ./integration/differential/ || status=1; \
	cat fidelity-docker.out 2>/dev/null; exit $$status

# moby's own integration suite against the current engine, Sockerless on
# the docker backend over it, and Sockerless on the memory backend; prints
# the pass/fail/skip counts of each (about 15 minutes; not part of test).
conformance:
	hack/conformance.sh

# Benchmarks against the reference dockerd, measured in the same run.
bench: reference-engine clients
	eval "$$(hack/dockerd.sh env)" && $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 ./internal/sandbox/ | tee bench.out
	eval "$$(hack/dockerd.sh env)" && $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 ./bench/ | tee -a bench.out
	eval "$$(hack/dockerd.sh env)" && eval "$$(hack/clients.sh env)" && $(GO) test -run '^$$' -bench ClientCorpora -benchtime 1x -count 1 -timeout 60m ./integration/clients/ | tee -a bench.out
