# mt — the two commands a newcomer runs:  make demo   (the main job, end to end)   make test   (every test)
# Both install the system packages they need first (scripts/deps.sh, apt-get on Debian/Ubuntu).

PREFIX  ?= /usr/local
SWIFT   ?= swift
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man/man1
SHAREDIR = $(PREFIX)/share/mt

.PHONY: all deps test-deps build test demo install uninstall clean perf fuzz soak sanitize

all: build

deps:
	@scripts/deps.sh build

test-deps:
	@scripts/deps.sh test

build: deps
	$(SWIFT) build -c release

test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

demo: deps
	scripts/demo.sh

perf:
	@scripts/deps.sh perf
	scripts/perf.sh

# The full simulated day: 288 consecutive cron runs against mt-sim with arrivals and faults (make test runs 24).
soak: test-deps
	$(SWIFT) build --build-tests
	MT_SOAK_RUNS=288 $(SWIFT) test --skip-build --filter SimulatedDayTests

# The test suite under AddressSanitizer (leaks of the test runners themselves suppressed), then ThreadSanitizer.
sanitize: test-deps
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/lsan.supp $(SWIFT) test --sanitize=address --scratch-path .build-asan
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test --sanitize=thread --scratch-path .build-tsan

# libFuzzer on every reader of outside input, 300 s per target (FUZZ_SECONDS to change).
FUZZ_SECONDS ?= 300
fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(SHAREDIR) \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 .build/release/mt .build/release/mt-sim $(DESTDIR)$(BINDIR)/
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/
	install -m 644 config/scales.yaml config/server.yaml.sample $(DESTDIR)$(SHAREDIR)/
	install -m 644 completions/mt.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mt
	install -m 644 completions/_mt $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mt
	install -m 644 completions/mt.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mt.fish
	install -d $(DESTDIR)$(SHAREDIR)/systemd
	sed 's|/usr/local/bin/mt |$(BINDIR)/mt |' systemd/mt-export.service > $(DESTDIR)$(SHAREDIR)/systemd/mt-export.service
	sed 's|/usr/local/bin/mt |$(BINDIR)/mt |' systemd/mt-export-static.service > $(DESTDIR)$(SHAREDIR)/systemd/mt-export-static.service
	sed 's|/usr/local/bin/mt |$(BINDIR)/mt |' systemd/mt-status.service > $(DESTDIR)$(SHAREDIR)/systemd/mt-status.service
	install -m 644 systemd/*.timer $(DESTDIR)$(SHAREDIR)/systemd/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mt $(DESTDIR)$(BINDIR)/mt-sim $(DESTDIR)$(SHAREDIR)/scales.yaml \
	  $(DESTDIR)$(SHAREDIR)/server.yaml.sample $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mt \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mt $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mt.fish
	cd man && for f in *.1; do rm -f $(DESTDIR)$(MANDIR)/$$f; done
	rm -rf $(DESTDIR)$(SHAREDIR)/systemd

clean:
	rm -rf .build .build-asan .build-tsan Fuzz/.build
