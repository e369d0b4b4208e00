# mt — the two commands a newcomer runs:  make demo   (the main job, end to end)   make test   (every test)
# Both install the system packages they need first (scripts/deps.sh, apt-get on Debian/Ubuntu).

PREFIX  ?= /usr/local
SWIFT   ?= swift
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man/man1
SHAREDIR = $(PREFIX)/share/mt
# The one owner of mt's version: the binary compiles it in (Sources/CBuildInfo), the package and tarball read it.
VERSION := $(shell cat VERSION)
# Where the release build of mt is made; SWIFTFLAGS adds to it (debian/rules: --static-swift-stdlib).
SCRATCH ?= .build
SWIFTFLAGS ?=

.PHONY: all deps test-deps build sim test powerloss demo install install-sim uninstall clean perf fuzz soak sanitize dist deb deb-test

all: build

deps:
	@scripts/deps.sh build

test-deps:
	@scripts/deps.sh test

# mt alone: mt-sim is its own package (Sim/), so this never compiles SwiftNIO or BoringSSL.
build: deps
	@scripts/buildinfo.sh $(SWIFT)
	$(SWIFT) build -c release --product mt --scratch-path $(SCRATCH) $(SWIFTFLAGS)

# mt-sim, the study server for tests, demos and benchmarks (compiles SwiftNIO once).
# SwiftPM keeps its build plan between builds and does not see files added to a path dependency (the root
# package, as Sim sees it), so Sim re-plans every time.
# Its `--tls` needs the package trait TLS, which compiles swift-nio-ssl's BoringSSL (about 4 min here): the
# targets that start `mt-sim --tls` (test, sanitize) and the installed mt-sim (sim, install-sim) build with it;
# demo, soak and perf without. Within one target every Sim build uses the same traits, or SwiftPM recompiles.
SIM = --package-path Sim --disable-build-manifest-caching
SIMTLS = $(SIM) --traits TLS
sim: deps
	$(SWIFT) build $(SIMTLS) -c release --product mt-sim

# Both packages: the root's tests run mt against Sim's debug mt-sim; then the power-loss suite on those binaries.
test: test-deps
	$(SWIFT) build $(SIMTLS) --build-tests
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(SWIFT) test $(SIMTLS) --skip-build
	scripts/powerloss.sh

# mt export, benchmark release and recover through kill -9 and a power cut on durablefs (a FUSE file system that
# keeps only what was fsynced): needs /dev/fuse and root. Alone it builds mt-sim without TLS (it serves plain http).
powerloss: test-deps
	$(SWIFT) build --product mt
	$(SWIFT) build $(SIM) --product mt-sim
	scripts/powerloss.sh

demo: deps
	scripts/demo.sh

perf:
	@scripts/deps.sh perf
	scripts/perf.sh

# The full simulated day: 288 consecutive cron runs against mt-sim with arrivals and faults (make test runs 24).
soak: test-deps
	$(SWIFT) build $(SIM) --product mt-sim
	$(SWIFT) build --build-tests
	MT_SOAK_RUNS=288 $(SWIFT) test --skip-build --filter SimulatedDayTests

# ClockStepTests preload libfaketime into mt, whose clock interposition deadlocks against the sanitizers' own
# runtime at start-up (mt hangs before main); they run in make test, against the plain build.
# mt's tests under AddressSanitizer (leaks of the test runners themselves suppressed), then ThreadSanitizer.
# The end-to-end tests run against the plain debug mt-sim: it is the test bench, not the code under test, and
# building SwiftNIO and BoringSSL twice more would cost CI a quarter of an hour.
ASAN = LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/lsan.supp
TSAN = TSAN_OPTIONS=halt_on_error=1
SIMBIN = MT_SIM_BIN=$(CURDIR)/Sim/.build/debug/mt-sim
sanitize: test-deps
	$(SWIFT) build $(SIMTLS) --product mt-sim
	$(ASAN) $(SIMBIN) $(SWIFT) test --sanitize=address --scratch-path .build-asan --skip ClockStepTests
	$(TSAN) $(SIMBIN) $(SWIFT) test --sanitize=thread --scratch-path .build-tsan --skip ClockStepTests

# libFuzzer on every reader of outside input, 300 s per target (FUZZ_SECONDS to change).
FUZZ_SECONDS ?= 300
fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

# mt only; mt-sim (a server for tests and demos) has its own target, install-sim. Every file installed is listed
# in SHAREDIR/install-manifest, which `make uninstall` reads, so that uninstalling needs no source tree.
# The Debian package (make deb) installs the same files through debian/rules, in Debian's places.
install: build
	scripts/install.sh "$(DESTDIR)" "$(PREFIX)" $(SCRATCH)/release/mt

install-sim: sim
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)
	install -m 755 Sim/.build/release/mt-sim $(DESTDIR)$(BINDIR)/
	install -m 644 man/mt-sim.1 $(DESTDIR)$(MANDIR)/

# Reads the manifest only (scripts/uninstall.sh is installed beside it as SHAREDIR/uninstall.sh, so that
# `sh /usr/local/share/mt/uninstall.sh` does the same without this tree); mt-sim's two files by name.
uninstall:
	@test -f $(DESTDIR)$(SHAREDIR)/install-manifest || { \
	  echo "make uninstall: no $(DESTDIR)$(SHAREDIR)/install-manifest: mt was not installed there by make install" >&2; exit 66; }
	sh $(DESTDIR)$(SHAREDIR)/uninstall.sh "$(DESTDIR)"
	rm -f $(DESTDIR)$(BINDIR)/mt-sim $(DESTDIR)$(MANDIR)/mt-sim.1

# A tarball of exactly the tracked files of HEAD (git archive; VERSION is one of them), commit stamped in.
dist:
	@git diff --quiet HEAD -- || echo "make dist: uncommitted changes are not in the tarball (it holds HEAD)" >&2
	mkdir -p out
	git archive --format=tar.gz --prefix=mt-$(VERSION)/ -o out/mt-$(VERSION).tar.gz HEAD
	@echo "out/mt-$(VERSION).tar.gz"

# The Debian package, built by dpkg-buildpackage from the dist tarball (so it holds what a release holds), then
# checked by lintian: any error or warning fails. .build-deb/scratch keeps the Swift build between runs.
deb: dist
	@scripts/deps.sh deb
	scripts/deb.sh $(VERSION)

# Installs out/mt_VERSION_*.deb on this machine, checks it, removes and purges it (as root).
deb-test:
	@scripts/deps.sh deb
	scripts/deb-test.sh out/mt_$(VERSION)_$$(dpkg --print-architecture).deb

clean:
	rm -rf .build .build-asan .build-tsan .build-deb Fuzz/.build Sim/.build Sim/.build-asan Sim/.build-tsan
