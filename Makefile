# mt — the two commands a newcomer runs:  make demo   (the main job, end to end)   make test   (every test)
# Both install the system packages they need first (scripts/deps.sh, apt-get on Debian/Ubuntu).

PREFIX  ?= /usr/local
SWIFT   ?= swift
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man/man1
SHAREDIR = $(PREFIX)/share/mt

.PHONY: all deps test-deps build sim test powerloss demo install install-sim uninstall clean perf fuzz soak sanitize

all: build

deps:
	@scripts/deps.sh build

test-deps:
	@scripts/deps.sh test

# mt alone: mt-sim is its own package (Sim/), so this never compiles SwiftNIO or BoringSSL.
build: deps
	$(SWIFT) build -c release --product mt

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

# mt's tests under AddressSanitizer (leaks of the test runners themselves suppressed), then ThreadSanitizer.
# The end-to-end tests run against the plain debug mt-sim: it is the test bench, not the code under test, and
# building SwiftNIO and BoringSSL twice more would cost CI a quarter of an hour.
ASAN = LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/lsan.supp
TSAN = TSAN_OPTIONS=halt_on_error=1
SIMBIN = MT_SIM_BIN=$(CURDIR)/Sim/.build/debug/mt-sim
sanitize: test-deps
	$(SWIFT) build $(SIMTLS) --product mt-sim
	$(ASAN) $(SIMBIN) $(SWIFT) test --sanitize=address --scratch-path .build-asan
	$(TSAN) $(SIMBIN) $(SWIFT) test --sanitize=thread --scratch-path .build-tsan

# libFuzzer on every reader of outside input, 300 s per target (FUZZ_SECONDS to change).
FUZZ_SECONDS ?= 300
fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

# mt only; mt-sim (a server for tests and demos) has its own target, install-sim.
install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(SHAREDIR) \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 .build/release/mt $(DESTDIR)$(BINDIR)/
	install -m 644 $(filter-out man/mt-sim.1,$(wildcard man/*.1)) $(DESTDIR)$(MANDIR)/
	install -m 644 config/scales.yaml config/server.yaml.sample $(DESTDIR)$(SHAREDIR)/
	install -m 644 completions/mt.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mt
	install -m 644 completions/_mt $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mt
	install -m 644 completions/mt.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mt.fish
	install -d $(DESTDIR)$(SHAREDIR)/systemd
	sed 's|/usr/local/bin/mt |$(BINDIR)/mt |' systemd/mt-export.service > $(DESTDIR)$(SHAREDIR)/systemd/mt-export.service
	sed 's|/usr/local/bin/mt |$(BINDIR)/mt |' systemd/mt-export-static.service > $(DESTDIR)$(SHAREDIR)/systemd/mt-export-static.service
	sed 's|/usr/local/bin/mt |$(BINDIR)/mt |' systemd/mt-status.service > $(DESTDIR)$(SHAREDIR)/systemd/mt-status.service
	install -m 644 systemd/*.timer $(DESTDIR)$(SHAREDIR)/systemd/

install-sim: sim
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)
	install -m 755 Sim/.build/release/mt-sim $(DESTDIR)$(BINDIR)/
	install -m 644 man/mt-sim.1 $(DESTDIR)$(MANDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mt $(DESTDIR)$(BINDIR)/mt-sim $(DESTDIR)$(SHAREDIR)/scales.yaml \
	  $(DESTDIR)$(SHAREDIR)/server.yaml.sample $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mt \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mt $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mt.fish
	cd man && for f in *.1; do rm -f $(DESTDIR)$(MANDIR)/$$f; done
	rm -rf $(DESTDIR)$(SHAREDIR)/systemd

clean:
	rm -rf .build .build-asan .build-tsan Fuzz/.build Sim/.build Sim/.build-asan Sim/.build-tsan
