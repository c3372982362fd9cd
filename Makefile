# Top-level wrapper around CMake. `make` leaves the daemon at build/udp-proxy.
# Targets: all, test, run, asan, tsan, windows, bench, format, format-check, install, clean.
BUILD ?= build
CMAKE ?= cmake
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
PREFIX ?= /usr/local

.PHONY: all configure test test-normal test-asan test-tsan asan tsan run windows bench format format-check deps install clean

all: configure
	$(CMAKE) --build $(BUILD) -j $(JOBS)

configure:
	@test -f $(BUILD)/CMakeCache.txt || $(CMAKE) -S . -B $(BUILD) $(CMAKE_FLAGS)

# Install what the build and the tests need (as root), or print the command.
deps:
	@sh scripts/deps.sh

# The whole suite: normal build, then ASan+UBSan, then the threaded tests under TSan.
test: deps format-check
	$(MAKE) test-normal
	$(MAKE) test-asan
	$(MAKE) test-tsan

test-normal:
	$(CMAKE) -S . -B $(BUILD) -DUP_WERROR=ON $(CMAKE_FLAGS)
	$(CMAKE) --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	$(CMAKE) -S . -B build-asan -DUP_WERROR=ON -DUP_SANITIZE=address $(CMAKE_FLAGS)
	$(CMAKE) --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

test-tsan:
	$(CMAKE) -S . -B build-tsan -DUP_WERROR=ON -DUP_SANITIZE=thread $(CMAKE_FLAGS)
	$(CMAKE) --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --output-on-failure -L threaded -j $(JOBS)

asan:
	$(CMAKE) -S . -B build-asan -DUP_SANITIZE=address && $(CMAKE) --build build-asan -j $(JOBS)

tsan:
	$(CMAKE) -S . -B build-tsan -DUP_SANITIZE=thread && $(CMAKE) --build build-tsan -j $(JOBS)

# A working example in the foreground: :8125 to two local targets.
run: all
	@echo "udp-proxy: listening on 127.0.0.1:8125, sending to 127.0.0.1:8126 and 127.0.0.1:8127."
	@echo "Send a metric from another shell:  echo -n 'page.views:1|c|#env:dev' > /dev/udp/127.0.0.1/8125"
	@echo "Watch a target receive it:         nc -klu 127.0.0.1 8126     (Ctrl+C here stops the proxy)"
	./$(BUILD)/udp-proxy --source 127.0.0.1:8125 --target 127.0.0.1:8126 --target 127.0.0.1:8127 --stats-interval 10

# The side-by-side benchmark (never part of `make test`): ~15 minutes, or
# ~2 with BENCH_QUICK=1. Writes bench/results/ (RESULTS.md, raw.csv, delivered.png).
bench: all
	BUILD=$(BUILD) python3 bench/run.py

format:
	clang-format -i src/*.c src/*.h src/*/*.c tests/*/*.c tools/*.c bench/*.c 2>/dev/null || true

format-check:
	@files=$$(ls src/*.c src/*.h src/*/*.c tests/*/*.c tests/*/*.h tools/*.c bench/*.c 2>/dev/null); \
	 clang-format --dry-run --Werror $$files && echo "format-check: ok"

install: all
	install -D -m 0755 $(BUILD)/udp-proxy $(DESTDIR)$(PREFIX)/bin/udp-proxy

clean:
	rm -rf $(BUILD) build-asan build-tsan build/windows
