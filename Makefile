# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := app
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test test-pg install install-dev translations browser db clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations browser

# The catalogues are compiled from the .po sources we keep in git.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d fieldapp/translations >/dev/null

# End-to-end tests drive Debian's Chromium (Playwright's own browser download cannot work
# without the open internet) and need a CJK font to render Chinese; installed once via apt.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  echo "installing Debian chromium, a CJK font and poppler for the browser and report tests"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk poppler-utils >/dev/null; \
	fi

db: install
	$(BIN)/flask db upgrade
	$(BIN)/flask init-db
	@if [ "$$FIELDAPP_ENV" != "production" ]; then $(BIN)/flask seed-demo --if-empty --history; fi

run: db
	@fc-list :lang=zh 2>/dev/null | grep -q . || echo "note: no CJK font installed; service report PDFs need one (apt-get install fonts-noto-cjk)"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# Two pytest-xdist workers (one per core); TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
# The layers first (import-linter's contracts in pyproject.toml: core <- domains <- faces, no
# face importing another), then the suite.
test: install-dev
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The same suite against PostgreSQL (CI runs it after `make test`); each worker uses its own
# database, the URL's name with _gw0, _gw1, ... appended, made on the fly.
TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
test-pg: install-dev
	FIELDAPP_TEST_DATABASE_URL=$(TEST_PG_URL) $(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache

# After adding or changing user-facing text: refresh the catalogues, then translate the new
# entries in fieldapp/translations/zh/LC_MESSAGES/messages.po (zh: Babel names zh-CN zh_Hans_CN, which gettext finds under zh) (tests fail until you do).
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o /tmp/fieldapp-messages.pot .
	$(BIN)/pybabel update -i /tmp/fieldapp-messages.pot -d fieldapp/translations
