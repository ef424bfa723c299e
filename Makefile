# laks – two commands: `make run` and `make test`. Everything they need is installed here.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
FLASK   := $(BIN)/flask --app laks
STAMP   := $(VENV)/.installed
HOST    ?= 127.0.0.1
PORT    ?= 5000
# `make run` shows the demo; `make run EMPTY=1` starts a network of one's own: only the
# municipalities and the module questions, no programmes, no people.
SEED    := $(if $(filter 1,$(EMPTY)),--base,--demo)

.PHONY: run test test-sqlite test-postgres setup assets translations lint bench load clean

run: setup
	./scripts/system-deps.sh run
	$(FLASK) db upgrade
	$(FLASK) seed $(SEED)
	$(FLASK) run --host $(HOST) --port $(PORT)

# The whole suite twice, on SQLite and on a PostgreSQL started for the run – at the same
# time, one on each core (each pass keeps its output together until it ends).
test: setup
	./scripts/system-deps.sh test
	$(MAKE) lint
	$(MAKE) -j2 --output-sync=target test-sqlite test-postgres

test-sqlite:
	$(BIN)/pytest

test-postgres:
	./scripts/with-postgres.sh $(BIN)/pytest

setup: $(STAMP) assets translations

# constraints.txt records the versions CI tested (scripts/freeze-constraints.sh writes it).
$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]" -c constraints.txt
	touch $(STAMP)

# Det Fælles Designsystem from package-lock.json into static/dkfds (npm ci only when needed).
assets:
	./scripts/assets.sh

translations: $(STAMP)
	$(BIN)/pybabel -q compile -d laks/translations

# Refresh the message catalogue after changing user-visible strings.
messages: $(STAMP)
	$(BIN)/pybabel extract --ignore-dirs='.* node_modules .venv' -F babel.cfg -k _l -k lazy_gettext -o laks/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -d laks/translations -i laks/translations/messages.pot --no-fuzzy-matching

# Style, the layering of laks (pyproject.toml: [tool.importlinter]), and bandit's security
# checks: no finding of medium or high severity (a reviewed exception says why, as # nosec).
lint: $(STAMP)
	$(BIN)/ruff check laks tests bench
	$(BIN)/lint-imports
	$(BIN)/bandit -q -r laks -ll

# The request benchmark, then the catalogue PDF benchmark (17, 100 and 500 cases).
bench: setup
	$(BIN)/python -m bench
	$(BIN)/python -m bench.catalogue

# Load without loss (README: Reliability): simulated people at once against laks under
# gunicorn on a PostgreSQL started for the run; fails if a save is lost or an answer is 5xx.
LOAD_SECONDS ?= 60
LOAD_PEOPLE  ?= 50
load: setup
	$(BIN)/python -m bench.load --seconds $(LOAD_SECONDS) --people $(LOAD_PEOPLE)

clean:
	rm -rf $(VENV) instance node_modules static/dkfds
