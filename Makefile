# hactl — see README.md. `make test` is what CI runs (.ci/run).
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/hactl/hactl/cli.Version=$(VERSION)

.PHONY: build test unit deps-test bench fuzz vet clean demo

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/hactl ./cmd/hactl

# The whole suite: installs what the integration tests need (ZooKeeper,
# OpenSSH, Node's webhdfs client), then runs unit and integration tests.
test: deps-test vet
	HACTL_INTEGRATION=1 HACTL_WEBHDFS_NPM_PREFIX=/var/cache/hactl-test/npm $(GO) test -count=1 -timeout 20m ./...

# Hermetic unit tests only (no ZooKeeper, no SSH, no network namespaces).
unit:
	$(GO) test -count=1 ./...

# The main job: an HA cluster on this machine (examples/local, 127.0.1.x).
demo:
	bash scripts/demo.sh

deps-test:
	bash scripts/install-test-deps.sh

vet:
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./schema/ ./planner/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoadValidate -fuzztime 60s ./schema/

clean:
	rm -rf bin
