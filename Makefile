# Top-level wrapper around CMake. `make` leaves the daemon at build/udp-proxy.
# Targets: all, test, run, asan, tsan, ubsan, fuzz, windows, dist, bench, soak, soak-ci, format, format-check, install, clean.
BUILD ?= build
CMAKE ?= cmake
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
DOCDIR ?= $(PREFIX)/share/doc/udp-proxy
# `make install INSTALL_STRIP=` keeps the symbols (the build is RelWithDebInfo).
INSTALL_STRIP ?= -s
FUZZ_SECONDS ?= 20
TEST_FUZZ_SECONDS ?= 10

.PHONY: dist deps-dist all configure deps-build test test-normal test-asan test-ubsan test-tsan asan tsan ubsan fuzz run windows bench soak soak-ci soak-build format format-check deps install uninstall clean

all: configure
	$(CMAKE) --build $(BUILD) -j $(JOBS)

configure:
	@test -f $(BUILD)/CMakeCache.txt || $(CMAKE) -S . -B $(BUILD) $(CMAKE_FLAGS)

# Install what the build and the tests need (as root), or print the command.
# This includes the Windows cross toolchain and Wine (scripts/deps-windows.sh),
# so a fresh machine runs the Windows tests too; UP_SKIP_WINDOWS=1 leaves them
# out (the Windows tests then report SKIPPED unless they are already there).
UP_SKIP_WINDOWS ?=
deps:
	@sh scripts/deps.sh
	@if [ "$(UP_SKIP_WINDOWS)" = 1 ]; then \
	    echo "deps: UP_SKIP_WINDOWS=1: not installing mingw-w64 and Wine (the Windows tests are skipped without them)"; \
	elif [ "$$(id -u)" = 0 ]; then \
	    sh scripts/deps-windows.sh; \
	else \
	    sh scripts/deps-windows.sh || echo "deps: the Windows tests will be SKIPPED until then (UP_SKIP_WINDOWS=1 silences this)"; \
	fi

deps-build:
	@sh scripts/deps.sh build

# The whole suite: normal build, then ASan+UBSan, then UBSan alone (glibc's
# allocator), then the threaded tests under TSan, then every fuzzer for a
# bounded time.
test: deps format-check
	$(MAKE) test-normal
	$(MAKE) test-asan
	$(MAKE) test-ubsan
	$(MAKE) test-tsan
	$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

test-normal:
	$(CMAKE) -S . -B $(BUILD) -DUP_WERROR=ON $(CMAKE_FLAGS)
	$(CMAKE) --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	$(CMAKE) -S . -B build-asan -DUP_WERROR=ON -DUP_SANITIZE=address $(CMAKE_FLAGS)
	$(CMAKE) --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# UBSan alone is there for what ASan's allocator hides (misaligned objects in
# glibc's blocks, review m13): the unit tests and the integration tests that
# start every thread and queue kind; everything else already runs under
# ASan+UBSan. `make test-ubsan UBSAN_TESTS=.` runs the whole suite.
UBSAN_TESTS ?= ^test_|^integration_(fanout|stalled_target|stalled_large|readers|signals|oversize|many_targets|shape_e2e)$$|^ops_(reload|unix_mixed)$$|^ctl_(rebind_load|drain_traffic)$$
test-ubsan:
	$(CMAKE) -S . -B build-ubsan -DUP_WERROR=ON -DUP_SANITIZE=undefined $(CMAKE_FLAGS)
	$(CMAKE) --build build-ubsan -j $(JOBS)
	cd build-ubsan && UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS) \
	    -R '$(UBSAN_TESTS)'

test-tsan:
	$(CMAKE) -S . -B build-tsan -DUP_WERROR=ON -DUP_SANITIZE=thread $(CMAKE_FLAGS)
	$(CMAKE) --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --output-on-failure -L threaded -j $(JOBS)

asan:
	$(CMAKE) -S . -B build-asan -DUP_SANITIZE=address && $(CMAKE) --build build-asan -j $(JOBS)

tsan:
	$(CMAKE) -S . -B build-tsan -DUP_SANITIZE=thread && $(CMAKE) --build build-tsan -j $(JOBS)

# UBSan alone (glibc's allocator, so misaligned objects show), in build-ubsan.
ubsan:
	$(CMAKE) -S . -B build-ubsan -DUP_SANITIZE=undefined && $(CMAKE) --build build-ubsan -j $(JOBS)

# libFuzzer targets (tests/fuzz, clang + ASan+UBSan) in build-fuzz, each run
# for FUZZ_SECONDS (default 20).
fuzz:
	CC=clang $(CMAKE) -S . -B build-fuzz -DUP_FUZZ=ON -DUP_WERROR=ON $(CMAKE_FLAGS)
	$(CMAKE) --build build-fuzz -j $(JOBS) --target up_fuzzers
	cd build-fuzz && ctest --output-on-failure -L fuzz
	sh tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

# A working example in the foreground: 127.0.0.1:8125 to two local targets,
# with /metrics for `udp-proxy stats`. The hints use only what the build made.
run: deps-build
	@$(MAKE) --no-print-directory all
	@echo "udp-proxy: listening on 127.0.0.1:8125, sending to 127.0.0.1:8126 and 127.0.0.1:8127."
	@echo "Watch a target receive:   ./$(BUILD)/udp-sink --listen 127.0.0.1:8126 --idle-timeout 30   (prints the count after 30 s quiet)"
	@echo "Send a metric:            echo -n 'page.views:1|c|#env:dev' > /dev/udp/127.0.0.1/8125   (bash)"
	@echo "Live rates per target:    ./$(BUILD)/udp-proxy stats --metrics-url http://127.0.0.1:9102/metrics"
	@echo "Ctrl+C here stops the proxy."
	./$(BUILD)/udp-proxy --source 127.0.0.1:8125 --target 127.0.0.1:8126 --target 127.0.0.1:8127 --stats-interval 10 \
	    --metrics-listen 127.0.0.1:9102

# The side-by-side benchmark (never part of `make test`): ~15 minutes, or
# ~2 with BENCH_QUICK=1. Writes bench/results/ (RESULTS.md, raw.csv, delivered.png).
bench: all
	BUILD=$(BUILD) python3 bench/run.py

# The soak (never part of `make test`; soak/soak.py, as root: it runs in
# private mount and network namespaces): SOAK_SECONDS of the realistic mix at
# SOAK_RATE datagrams/s under a seeded fault schedule, every datagram
# accounted for. Writes SOAK_OUT/REPORT.md and SOAK_OUT/soak.png (default soak/).
# SOAK_BUILD=build-asan soaks the ASan+UBSan build. soak-ci: the same checks
# in 60 s (every fault once), report in $(BUILD)/soak-ci/.
SOAK_SECONDS ?= 600
SOAK_RATE ?= 30000
SOAK_SEED ?= 14
SOAK_BUILD ?= $(BUILD)
SOAK_OUT ?= soak
SOAK_ENV = SOAK_RATE=$(SOAK_RATE) SOAK_SEED=$(SOAK_SEED) SOAK_BUILD=$(SOAK_BUILD) \
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
soak-build:
	@if [ "$(SOAK_BUILD)" = build-asan ]; then $(MAKE) --no-print-directory asan; \
	 else $(MAKE) --no-print-directory all BUILD=$(SOAK_BUILD); fi

# Exit status 77 from soak.py: it cannot run here (no root, no namespaces) and
# said why: `make soak` fails with it, `make soak-ci` reports the skip and goes on.
soak: soak-build
	@$(SOAK_ENV) SOAK_SECONDS=$(SOAK_SECONDS) SOAK_OUT=$(SOAK_OUT) python3 soak/soak.py

soak-ci: soak-build
	@$(SOAK_ENV) SOAK_SECONDS=60 SOAK_OUT=$(BUILD)/soak-ci python3 soak/soak.py; rc=$$?; \
	 if [ $$rc -eq 77 ]; then echo "soak-ci: SKIPPED (reason above)"; exit 0; fi; exit $$rc

# Windows executables, cross-compiled with mingw-w64 (cmake/mingw-*.cmake):
# build/windows/udp-proxy-x64.exe and build/windows/udp-proxy-x86.exe.
WINDOWS_FLAGS ?= -DCMAKE_BUILD_TYPE=Release -DUP_WERROR=ON
windows:
	@command -v x86_64-w64-mingw32-gcc >/dev/null && command -v i686-w64-mingw32-gcc >/dev/null || \
	 { echo "make windows: mingw-w64 is not installed. Run: sudo sh scripts/deps-windows.sh"; exit 1; }
	$(CMAKE) -S . -B $(BUILD)/windows/x64 -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-x86_64.cmake $(WINDOWS_FLAGS)
	$(CMAKE) --build $(BUILD)/windows/x64 -j $(JOBS)
	cp $(BUILD)/windows/x64/udp-proxy.exe $(BUILD)/windows/udp-proxy-x64.exe
	$(CMAKE) -S . -B $(BUILD)/windows/x86 -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-i686.cmake $(WINDOWS_FLAGS)
	$(CMAKE) --build $(BUILD)/windows/x86 -j $(JOBS)
	cp $(BUILD)/windows/x86/udp-proxy.exe $(BUILD)/windows/udp-proxy-x86.exe

# The release artifacts, in $(DIST)/ (README.md, "Install"): the .deb (debian/,
# built out of tree by scripts/build-deb.sh), the two Windows executables and
# their MSIs (packaging/msi/, scripts/build-msi.sh), and SHA256SUMS. The
# version is the VERSION file's. Installs its tools when run as root, or
# prints the apt-get line.
VERSION := $(shell tr -d ' \n' < VERSION)
DEB_ARCH = $(shell dpkg --print-architecture)
DIST ?= dist
deps-dist:
	@sh scripts/deps.sh dist

dist: deps-dist
	$(MAKE) --no-print-directory windows
	rm -rf $(DIST)
	mkdir -p $(DIST)
	sh scripts/build-deb.sh $(DIST)
	cp $(BUILD)/windows/udp-proxy-x64.exe $(DIST)/udp-proxy-$(VERSION)-x64.exe
	cp $(BUILD)/windows/udp-proxy-x86.exe $(DIST)/udp-proxy-$(VERSION)-x86.exe
	sh scripts/build-msi.sh x64 $(DIST)/udp-proxy-$(VERSION)-x64.exe $(DIST)/udp-proxy-$(VERSION)-x64.msi
	sh scripts/build-msi.sh x86 $(DIST)/udp-proxy-$(VERSION)-x86.exe $(DIST)/udp-proxy-$(VERSION)-x86.msi
	cd $(DIST) && sha256sum udp-proxy_$(VERSION)_$(DEB_ARCH).deb udp-proxy-$(VERSION)-x64.msi \
	    udp-proxy-$(VERSION)-x86.msi udp-proxy-$(VERSION)-x64.exe udp-proxy-$(VERSION)-x86.exe > SHA256SUMS
	@cd $(DIST) && ls -l && sha256sum -c --quiet SHA256SUMS && echo "dist: $(DIST)/ complete, SHA256SUMS verified"

format:
	clang-format -i src/*.c src/*.h src/*/*.c tests/*/*.c tools/*.c bench/*.c soak/*.c 2>/dev/null || true

format-check:
	@files=$$(ls src/*.c src/*.h src/*/*.c tests/*/*.c tests/*/*.h tools/*.c bench/*.c soak/*.c 2>/dev/null); \
	 clang-format --dry-run --Werror $$files && echo "format-check: ok"

# The daemon (stripped), its manual (FILES naming the paths used here), its
# systemd unit and the instance template udp-proxy@.service (ExecStart and
# --config rewritten for BINDIR and SYSCONFDIR), the user documentation, the
# logrotate recipe and the example configuration. The last two are the
# administrator's once in place: never replaced. DESTDIR stages the tree for a
# package.
DOCS = README.md $(sort $(wildcard docs/*.md))
man_path = $(subst -,\\-,$(1))
install: all
	install -D $(INSTALL_STRIP) -m 0755 $(BUILD)/udp-proxy $(DESTDIR)$(BINDIR)/udp-proxy
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/udp-proxy \
	    $(DESTDIR)$(SYSCONFDIR)/logrotate.d $(DESTDIR)$(DOCDIR)
	sed -e 's|^\.I /usr/local/bin/udp\\-proxy$$|.I $(call man_path,$(BINDIR))/udp\\-proxy|' \
	    -e 's|/usr/local/lib/systemd/system|$(call man_path,$(UNITDIR))|g' \
	    -e 's|/usr/local/share/doc/udp\\-proxy|$(call man_path,$(DOCDIR))|g' \
	    -e 's|^\.I /etc/logrotate\.d/udp\\-proxy$$|.I $(call man_path,$(SYSCONFDIR))/logrotate.d/udp\\-proxy|' \
	    docs/udp-proxy.8 > $(DESTDIR)$(MANDIR)/man8/udp-proxy.8
	for u in udp-proxy.service udp-proxy@.service; do \
	    sed 's|^ExecStart=/usr/local/bin/udp-proxy --config /etc/udp-proxy/|ExecStart=$(BINDIR)/udp-proxy --config $(SYSCONFDIR)/udp-proxy/|' \
	        packaging/$$u > $(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -m 0644 packaging/udp-proxy.socket $(DESTDIR)$(UNITDIR)/udp-proxy.socket
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	@for pair in packaging/udp-proxy.conf:$(SYSCONFDIR)/udp-proxy/udp-proxy.conf \
	             packaging/udp-proxy.logrotate:$(SYSCONFDIR)/logrotate.d/udp-proxy; do \
	    from=$${pair%%:*}; to=$(DESTDIR)$${pair#*:}; \
	    if [ -e "$$to" ]; then echo "install: keeping the existing $$to"; \
	    else install -m 0644 "$$from" "$$to" && echo "install: $$from -> $$to"; fi; \
	done
	@[ -n "$(DESTDIR)" ] || echo "install: now run: systemctl daemon-reload && systemctl enable --now udp-proxy"

# Removes what install put in place, except the configuration file and a
# logrotate file the administrator changed.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/udp-proxy $(DESTDIR)$(MANDIR)/man8/udp-proxy.8 $(DESTDIR)$(UNITDIR)/udp-proxy.service \
	    $(DESTDIR)$(UNITDIR)/udp-proxy@.service $(DESTDIR)$(UNITDIR)/udp-proxy.socket $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null
	@lr=$(DESTDIR)$(SYSCONFDIR)/logrotate.d/udp-proxy; \
	 if cmp -s packaging/udp-proxy.logrotate "$$lr"; then rm -f "$$lr"; \
	 elif [ -e "$$lr" ]; then echo "uninstall: keeping $$lr (changed since install)"; fi

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz build/windows $(DIST)
