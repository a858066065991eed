# Two commands do all the set-up on a fresh Debian machine (README.md):
#   make run    system packages, .venv, the C build, then the server on SQLite
#   make test   the same set-up, then lint, types, the sanitizer run and the whole suite
# Both are idempotent and quiet when nothing changed.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP_SYS := $(VENV)/.system-packages
STAMP_PY := $(VENV)/.installed
ASAN_DIR := build/asan

# Debian packages the project needs: a virtual X screen and real X programs for the integration tests and
# the corpus recorder, socat as the relay benchmark's floor, Chromium for the admin web's browser tests,
# CJK fonts so that Korean renders in the browser and on the X screen, and the xcb libraries Qt's X11
# platform plugin needs beyond what PySide6 bundles (the viewer and the host applet on a real X display).
# xclip reads and sets the X clipboard from outside the applet in the clipboard tests.
SYSTEM_PACKAGES := xvfb xterm x11-utils x11-xserver-utils xdotool socat chromium fonts-noto-cjk \
                   python3-venv gcc libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 xclip

.PHONY: setup run test lint typecheck test-asan test-suite services bench clean

setup: $(STAMP_PY)
	@:

$(STAMP_SYS): scripts/system-packages.sh Makefile
	@scripts/system-packages.sh $(SYSTEM_PACKAGES)
	@mkdir -p $(VENV) && touch $@

$(STAMP_PY): $(STAMP_SYS) pyproject.toml setup.py $(wildcard native/*.c native/*.h native/_build.py)
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q -U pip setuptools wheel 2>&1 | grep -v "is ignored" || true
	@$(PY) -m pip install -q -e '.[host,viewer,server,dev,bench]' 2>&1 | grep -vE "is ignored|^\s*$$" | grep -iE "error|failed" && exit 1 || true
	@$(PY) -c "import opensupport.native as n; assert n.lib.os_kernel_abi() >= 1"
	@touch $@

services:
	@scripts/services.sh

run: setup
	@$(PY) -m opensupport server $(RUN_ARGS)

lint: setup
	@$(VENV)/bin/ruff check --quiet .
	@$(VENV)/bin/ruff format --check --quiet .

typecheck: setup
	@$(VENV)/bin/mypy --no-error-summary

# The codec tests once more against the kernel built with AddressSanitizer and UBSan. Python itself is
# not instrumented, so the ASan runtime is preloaded and leak checking (which would report the
# interpreter's own allocations) is off.
$(ASAN_DIR)/.built: $(wildcard native/*.c native/*.h native/_build.py)
	@rm -rf $(ASAN_DIR) && mkdir -p $(ASAN_DIR)
	@cd $(ASAN_DIR) && OPENSUPPORT_SANITIZE=1 ../../$(PY) -c "import sys; sys.path.insert(0, '../../native'); \
	  import _build; _build.ffibuilder.compile(tmpdir='.', verbose=False)" >/dev/null
	@touch $@

test-asan: setup $(ASAN_DIR)/.built
	@OPENSUPPORT_NATIVE_LIB=$$(ls $(CURDIR)/$(ASAN_DIR)/opensupport/native/_kernel*.so) \
	  LD_PRELOAD=$$(gcc -print-file-name=libasan.so):$$(gcc -print-file-name=libubsan.so) \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(PY) -m pytest -q -p no:cacheprovider tests/native $(wildcard tests/codec)

# The suite runs as three pytest processes: Qt keeps process-wide state (one QApplication, its event
# loop, objects deleted late), so the GUI-heavy areas get processes of their own rather than sharing one
# with a thousand other tests. Together they cover every test under tests/ (the last group takes the rest).
SUITE_CORE := tests/native tests/codec tests/protocol tests/relay tests/server tests/browser tests/benchmarks
SUITE_GUI := tests/host tests/viewer tests/tools
test-suite: setup services
	@$(PY) -m pytest -q $(SUITE_CORE)
	@$(PY) -m pytest -q $(SUITE_GUI)
	@$(PY) -m pytest -q tests $(foreach d,$(SUITE_CORE) $(SUITE_GUI),--ignore=$(d))

test: lint typecheck test-asan test-suite

bench: setup
	@$(PY) -m opensupport bench $(BENCH_ARGS)

clean:
	rm -rf build $(VENV) native/_kernel*.so native/*.o *.egg-info
