# Top-level wrapper around CMake. `make` leaves the daemon at build/udp-proxy.
# Targets: all, test, run, asan, tsan, fuzz, windows, bench, soak, soak-ci, format, format-check, install, clean.
BUILD ?= build
CMAKE ?= cmake
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
FUZZ_SECONDS ?= 20
TEST_FUZZ_SECONDS ?= 10

.PHONY: all configure deps-build test test-normal test-asan test-tsan asan tsan fuzz run windows bench soak soak-ci soak-build format format-check deps install uninstall clean

all: configure
	$(CMAKE) --build $(BUILD) -j $(JOBS)

configure:
	@test -f $(BUILD)/CMakeCache.txt || $(CMAKE) -S . -B $(BUILD) $(CMAKE_FLAGS)

# Install what the build and the tests need (as root), or print the command.
deps:
	@sh scripts/deps.sh

deps-build:
	@sh scripts/deps.sh build

# The whole suite: normal build, then ASan+UBSan, then the threaded tests under
# TSan, then every fuzzer for a bounded time.
test: deps format-check
	$(MAKE) test-normal
	$(MAKE) test-asan
	$(MAKE) test-tsan
	$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

test-normal:
	$(CMAKE) -S . -B $(BUILD) -DUP_WERROR=ON $(CMAKE_FLAGS)
	$(CMAKE) --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	$(CMAKE) -S . -B build-asan -DUP_WERROR=ON -DUP_SANITIZE=address $(CMAKE_FLAGS)
	$(CMAKE) --build build-asan -j $(JOBS)
	cd build-asan && UP_TEST_RATE_SCALE=0.5 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

test-tsan:
	$(CMAKE) -S . -B build-tsan -DUP_WERROR=ON -DUP_SANITIZE=thread $(CMAKE_FLAGS)
	$(CMAKE) --build build-tsan -j $(JOBS)
	cd build-tsan && UP_TEST_RATE_SCALE=0.15 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --output-on-failure -L threaded -j $(JOBS)

asan:
	$(CMAKE) -S . -B build-asan -DUP_SANITIZE=address && $(CMAKE) --build build-asan -j $(JOBS)

tsan:
	$(CMAKE) -S . -B build-tsan -DUP_SANITIZE=thread && $(CMAKE) --build build-tsan -j $(JOBS)

# libFuzzer targets (tests/fuzz, clang + ASan+UBSan) in build-fuzz, each run
# for FUZZ_SECONDS (default 20).
fuzz:
	CC=clang $(CMAKE) -S . -B build-fuzz -DUP_FUZZ=ON -DUP_WERROR=ON $(CMAKE_FLAGS)
	$(CMAKE) --build build-fuzz -j $(JOBS) --target up_fuzzers
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

format:
	clang-format -i src/*.c src/*.h src/*/*.c tests/*/*.c tools/*.c bench/*.c soak/*.c 2>/dev/null || true

format-check:
	@files=$$(ls src/*.c src/*.h src/*/*.c tests/*/*.c tests/*/*.h tools/*.c bench/*.c soak/*.c 2>/dev/null); \
	 clang-format --dry-run --Werror $$files && echo "format-check: ok"

# The daemon, its manual, its systemd unit (ExecStart and --config rewritten
# for BINDIR and SYSCONFDIR) and the example configuration, which never
# replaces one that exists. DESTDIR stages the tree for a package.
install: all
	install -D -m 0755 $(BUILD)/udp-proxy $(DESTDIR)$(BINDIR)/udp-proxy
	install -D -m 0644 docs/udp-proxy.8 $(DESTDIR)$(MANDIR)/man8/udp-proxy.8
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/udp-proxy
	sed 's|^ExecStart=/usr/local/bin/udp-proxy --config /etc/udp-proxy/|ExecStart=$(BINDIR)/udp-proxy --config $(SYSCONFDIR)/udp-proxy/|' \
	    packaging/udp-proxy.service > $(DESTDIR)$(UNITDIR)/udp-proxy.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/udp-proxy.service
	@conf=$(DESTDIR)$(SYSCONFDIR)/udp-proxy/udp-proxy.conf; \
	 if [ -e "$$conf" ]; then echo "install: keeping the existing $$conf"; \
	 else install -m 0644 packaging/udp-proxy.conf "$$conf" && echo "install: example configuration in $$conf"; fi
	@[ -n "$(DESTDIR)" ] || echo "install: now run: systemctl daemon-reload && systemctl enable --now udp-proxy"

# Removes what install put in place, except the configuration file.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/udp-proxy $(DESTDIR)$(MANDIR)/man8/udp-proxy.8 $(DESTDIR)$(UNITDIR)/udp-proxy.service

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz build/windows
