# The two commands of the README: `make run` and `make test`.
# Everything else here serves them.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install system-libs messages check lint typecheck pytest browser-deps network-deps makemessages bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	@touch $@

install: $(STAMP) messages system-libs

# Debian's Pango for WeasyPrint (the PDF opinions and reports), when missing.
system-libs:
	@if ! ldconfig -p | grep -q libpangoft2-1.0; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 >/dev/null; \
	fi

# Compiled catalogues are build products (.gitignore); Babel needs no system gettext.
messages: $(STAMP)
	@$(BIN)/pybabel compile --domain django --directory maillage/locale --statistics

run: install
	MAILLAGE_DEMO_MODE=$${MAILLAGE_DEMO_MODE:-1} $(BIN)/python manage.py migrate --noinput
	MAILLAGE_DEMO_MODE=$${MAILLAGE_DEMO_MODE:-1} $(BIN)/python manage.py load_demo --if-empty
	MAILLAGE_COLLECTED_STATIC=1 $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "Maillage: http://$(HOST):$(PORT)/ (web server and background worker; Ctrl-C stops both)"
	MAILLAGE_DEMO_MODE=$${MAILLAGE_DEMO_MODE:-1} MAILLAGE_COLLECTED_STATIC=1 \
		$(BIN)/python -m maillage.tasks.run_all -- \
		$(BIN)/uvicorn maillage.asgi:application --host $(HOST) --port $(PORT) --proxy-headers --no-access-log --lifespan off

# Debian's Chromium for the browser tests (never a browser downloaded by a test tool),
# and gettext for the catalogue completeness check.
browser-deps:
	@if [ ! -x $(CHROMIUM) ] || ! command -v xgettext >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium gettext >/dev/null; \
	fi

# The video room's network tests: iproute2 (ip netns, veth, tc tbf) and nftables shape and
# cut the patient's line; coturn is the TURN relay the relay test starts on loopback.
network-deps:
	@if ! command -v turnserver >/dev/null 2>&1 || [ ! -x /usr/sbin/nft ] || [ ! -x /usr/sbin/tc ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
			coturn nftables iproute2 >/dev/null; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check maillage $(wildcard bench)

typecheck: $(STAMP)
	$(BIN)/mypy maillage $(wildcard bench)

check: install
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run

# Runs the suite on SQLite, then on PostgreSQL when DATABASE_URL is set.
# pytest exits 5 when it collects nothing: that is reported, not hidden.
pytest: install browser-deps network-deps
	@env -u DATABASE_URL $(BIN)/python -m pytest -n 2 --dist loadfile -q ; rc=$$?; \
		if [ $$rc = 5 ]; then echo "pytest collected no tests (SQLite)"; rc=0; fi; \
		test $$rc = 0
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "--- again on PostgreSQL ($$DATABASE_URL)"; \
		$(BIN)/python -m pytest -n 2 --dist loadfile -q ; rc=$$?; \
		if [ $$rc = 5 ]; then echo "pytest collected no tests (PostgreSQL)"; rc=0; fi; \
		test $$rc = 0; \
	fi

test: lint typecheck check pytest

makemessages: $(STAMP)
	cd maillage && ../$(BIN)/python ../manage.py makemessages --locale fr --no-obsolete --add-location file

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var
