# The only commands a user needs: make site, make serve, make test (and bench, soak).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OUTPUT_DIR ?= output
COMMUNITIES_DIR ?= data/communities
PORT ?= 8000
export OUTPUT_DIR COMMUNITIES_DIR

.PHONY: site serve test lint soak bench clean help translations

help:
	@echo "make site    build the site into $(OUTPUT_DIR)/ from $(COMMUNITIES_DIR)/ (offline)"
	@echo "make serve   build, then preview at http://localhost:$(PORT)/"
	@echo "make test    run the linters and the test suite"
	@echo "make bench   measure the build against its peers (benchmarks/RESULTS.md)"
	@echo "make soak    long fuzzing runs"

$(VENV)/.site: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.site requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

site: $(VENV)/.site
	$(BIN)/python scripts/build --communities "$(COMMUNITIES_DIR)" --output "$(OUTPUT_DIR)"

serve: site
	$(BIN)/python -m http.server --directory "$(OUTPUT_DIR)" --bind 127.0.0.1 $(PORT)

lint: $(VENV)/.dev
	$(BIN)/ruff check plugins scripts tests benchmarks pelican.conf.py

test: lint
	$(BIN)/python -m pytest -q

soak: $(VENV)/.dev
	SOAK=1 $(BIN)/python -m pytest -q -m soak

bench: $(VENV)/.dev
	$(BIN)/python scripts/bench

clean:
	rm -rf output .cache .pytest_cache

translations: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k plural_forms:1,2 --no-location --sort-output --omit-header -o theme/translations/messages.pot .
	$(BIN)/pybabel update -i theme/translations/messages.pot -d theme/translations --omit-header
