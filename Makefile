# GovData Hub: `make run` serves the platform with a demo region, `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.8
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run test fonts browser lint format clean

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python python3.11
	touch $@

install: $(VENV)/.synced

run: install fonts
	$(VENV)/bin/govdata demo --if-empty
	$(VENV)/bin/govdata serve

# The annual report's PDF (WeasyPrint) is laid out by pango in a CJK font; the same font makes the
# browser tests' screenshots show Chinese text.
FONT_PACKAGES := fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0

fonts:
	@dpkg -s $(FONT_PACKAGES) >/dev/null 2>&1 || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(FONT_PACKAGES); }

# Browser tests drive Debian's chromium.
browser: fonts
	@dpkg -s chromium >/dev/null 2>&1 || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

# The suite runs in parallel (pytest-xdist): much of it waits on PostgreSQL, servers and chromium, so
# 3 workers beat 2 on a 2-core machine. `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= 3

test: install browser
	$(VENV)/bin/pytest -n $(TEST_WORKERS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache
