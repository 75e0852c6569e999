# prestaged: `make check` installs what the tests need and runs them all.
SHELL    := /bin/bash
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Untagged versions are ordered by the commit count (packaging/build/version.go).
COMMITS  ?= $(shell git rev-list --count HEAD 2>/dev/null || echo 0)
# Reproducible builds: every timestamp in the packages is the commit's.
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
LDFLAGS  := -s -w -X main.version=$(VERSION)
export CGO_ENABLED ?= 0

# Debian packages the tests drive as real peers (see docs/design.md, "Testing").
DEB_PACKAGES := nginx openssl aria2 transmission-daemon transmission-cli opentracker \
	mktorrent rpm iproute2 curl libtemplate-perl puppet-agent puppet-strings systemd time procps dpkg \
	qemu-utils bzip2 lintian prometheus
# Commands that prove each package is present (same order is not required).
DEB_COMMANDS := nginx openssl aria2c transmission-daemon transmission-cli opentracker \
	mktorrent rpm ip curl tpage puppet yard systemd-analyze /usr/bin/time pgrep dpkg-deb \
	qemu-img bzip2 lintian promtool

.PHONY: all build check deps vet test fuzz fresh-machine bench bench-testbed bench-formats bench-rollout packages reproducible clean

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o dist/prestaged ./cmd/prestaged

# deps installs the Debian packages the tests need, only when a command is missing.
deps:
	@missing=0; for c in $(DEB_COMMANDS); do command -v $$c >/dev/null 2>&1 || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install: $(DEB_PACKAGES)"; exit 1; fi; \
	  echo "installing test dependencies: $(DEB_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEB_PACKAGES) >/dev/null; \
	fi
	@systemctl disable --now nginx transmission-daemon opentracker prometheus >/dev/null 2>&1 || true

# third_party/anacrolix-torrent must be upstream plus the patch beside it
# (third_party/README.md); the script proves it.
vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	third_party/anacrolix-torrent.sh check

test:
	$(GO) test -count=1 -timeout 12m ./...

# A count, not a duration: with -fuzztime 10s, Go's fuzz coordinator can fail
# a starved run with "context deadline exceeded" at the deadline, no input
# found (go.dev/issue/75804, fixed in Go 1.27). 50000 runs take about 10 s.
# Each target for a bounded count (about 10 s each on 2 cores): the trust
# parsers, the spec loader, the peer server's request handling, the
# Content-Range parser and state.json.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 50000x ./engine/trust
	$(GO) test -run '^$$' -fuzz '^FuzzParseBytes$$' -fuzztime 20000x ./spec
	$(GO) test -run '^$$' -fuzz '^FuzzServeRequest$$' -fuzztime 20000x ./fetchers/peer
	$(GO) test -run '^$$' -fuzz '^FuzzParseContentRange$$' -fuzztime 100000x ./fetchers
	$(GO) test -run '^$$' -fuzz '^FuzzLoadState$$' -fuzztime 3000x ./engine/store

# The testbed on a kernel that allows namespaces only "reno bbr", as fresh
# machines may; the machine's own setting is restored whatever happens.
fresh-machine:
	test/fresh-machine.sh

check: deps vet test fuzz fresh-machine reproducible

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x ./digest
	$(GO) test -run '^$$' -bench . -benchtime 3x ./engine/convert
	$(GO) run ./test/bench

# The multi-host testbed (root): N network namespaces, tc-capped links, real
# serve/apply processes; prints the table of every strategy. All hosts share
# this machine's cores: the table's "machine CPU busy" column says when a row
# measured the CPU rather than the network (on a 2-core VM the swarm rows do
# at 100Mbit; TESTBED_BANDWIDTH=25Mbit leaves the CPU room). Every host's spec
# and logs stay in dist/testbed-logs/<strategy>/, to explain an odd row.
# Hosts and mirror run TCP cubic whatever this machine's default (-cc).
TESTBED_STRATEGIES ?= mirror,saf-tree,tree,chain,aria2c,torrent,tree+torrent
TESTBED_BANDWIDTH  ?= 100Mbit
bench-testbed: build
	$(GO) run ./test/testbed -n 32 -size 256MiB -bandwidth $(TESTBED_BANDWIDTH) \
		-strategies $(TESTBED_STRATEGIES) -prestaged $(CURDIR)/dist/prestaged \
		-logs $(CURDIR)/dist/testbed-logs

packages: build
	$(GO) run ./packaging/build -version "$(VERSION)" -commits "$(COMMITS)" -binary dist/prestaged -out dist/

# Two `make packages` at one commit must give byte-identical packages; the
# second build goes to its own directory from a fresh binary.
reproducible: packages
	rm -rf dist/again && mkdir -p dist/again
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o dist/again/prestaged ./cmd/prestaged
	$(GO) run ./packaging/build -version "$(VERSION)" -commits "$(COMMITS)" -binary dist/again/prestaged -out dist/again/
	cmp dist/prestaged dist/again/prestaged
	for p in dist/again/*.deb dist/again/*.rpm; do cmp "$$p" "dist/$${p#dist/again/}" || exit 1; done
	@echo "reproducible: $$(cd dist/again && echo prestaged *.deb *.rpm) identical across two builds"

clean:
	rm -rf dist .quickstart

# An ext4 image of this machine's /usr/share/doc (mkfs.ext4 -d; every
# host's copy shares this machine's memory, so not all of /usr/share), distributed
# through the tree raw and published as zstd installed as raw, in one run:
# the second row's ratio is to the raw image's size/bandwidth.
TESTBED_FORMATS_SIZE ?= 1280MiB
TESTBED_FORMATS_TREE ?= /usr/share/doc
bench-formats: build
	$(GO) run ./test/testbed -n 32 -size $(TESTBED_FORMATS_SIZE) -image-tree $(TESTBED_FORMATS_TREE) -publish raw,zst \
		-strategies tree -bandwidth $(TESTBED_BANDWIDTH) -prestaged $(CURDIR)/dist/prestaged \
		-logs $(CURDIR)/dist/testbed-logs

# A rollout as farms have it (docs/benchmarks.md, "Rollout scenarios"): every
# host at once, starts spread over 120 s, two slow hosts, two killed hosts,
# one row each for prestaged's default (a peer block of hosts and self only)
# and the binary tree; then three times the hosts, all at once.
TESTBED_ROLLOUT_SCENARIOS ?= together,spread=120s,slow=2,kill=2
bench-rollout: build
	$(GO) run ./test/testbed -n 32 -size 256MiB -bandwidth 25Mbit -strategies default,tree \
		-scenarios $(TESTBED_ROLLOUT_SCENARIOS) -prestaged $(CURDIR)/dist/prestaged -logs $(CURDIR)/dist/testbed-logs
	$(GO) run ./test/testbed -n 96 -size 64MiB -bandwidth 25Mbit -strategies default,tree \
		-scenarios together -prestaged $(CURDIR)/dist/prestaged -logs $(CURDIR)/dist/testbed-logs-96
