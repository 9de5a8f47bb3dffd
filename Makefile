# The two commands: `make book` and `make test`. Each creates .venv on first use.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The book's JavaScript from the npm registry (package.json, pinned by package-lock.json):
# MathJax, which the built book serves itself (_config.yml), so no page loads it from a CDN.
NPM_STAMP := node_modules/.installed
NOTEBOOKS := $(wildcard chapters/*.ipynb)
# torch is optional: it enables the torch.optim cross-check and the torch columns of `make bench`;
# schedulefree (Defazio et al.'s reference, on torch) enables the schedule-free cross-check;
# lion-pytorch (lucidrains' Lion, on torch; torch.optim has none) enables Lion's cross-check.
TORCH_SPEC ?= torch==2.13.0
SCHEDULEFREE_SPEC ?= schedulefree==1.4.1
LION_SPEC ?= lion-pytorch==0.2.5

.PHONY: book test claims bench lab serve clean torch venv node notebooks pdf

venv: $(STAMP)

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 or python3 on PATH)"; exit 1; }
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is needed, found " + sys.version'
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml requirements.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e '.[test,fast]'
	@touch $(STAMP)

node: $(NPM_STAMP)

$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to install the book's JavaScript (MathJax) from package-lock.json: install Node.js and npm (Debian: apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $(NPM_STAMP)

book: $(STAMP) $(NPM_STAMP)
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html (make serve shows it at http://localhost:8000)"

test: $(STAMP) $(NPM_STAMP)
	$(BIN)/python -m pytest tests $(if $(NOTEBOOKS),--nbval --nbval-current-env $(NOTEBOOKS))

# The whole book as one PDF, _build/pdf/book.pdf (scripts/pdf.py): jupyter-book's single-page
# build (it reuses `make book`'s doctrees and cache) printed by the headless Chromium that the
# browser tests use (Debian chromium), each exploration as small multiples.
pdf: $(STAMP) $(NPM_STAMP)
	$(BIN)/python scripts/pdf.py _build/pdf/book.pdf

# The numbers of the prose: declared as results or inputs, and results right at their printed
# precision (seconds; no notebook is executed). `make test` runs it too (tests/test_claims.py).
claims: $(STAMP)
	$(BIN)/python scripts/claims.py --strict

# `make bench` runs every benchmark; `make bench BENCH="steps book"` only those.
bench: $(STAMP) $(NPM_STAMP)
	@$(BIN)/python -m bench $(BENCH)

# Re-execute the chapter notebooks in place (after changing optlib): nbval compares these outputs
# with a fresh run, and `make book` shows them as stored (it does not execute the chapters).
notebooks: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py

# JupyterLab on the chapters, with the MyST renderer (jupyterlab-myst, requirements.txt) and
# the book's defaults (lab/overrides.json, installed by scripts/lab_settings.py as Binder's
# postBuild does).
lab: $(STAMP)
	$(BIN)/python scripts/lab_settings.py
	$(BIN)/jupyter lab chapters

# Serve the built book on this machine only (http.server is in the standard library:
# no .venv needed). Set PORT=... to use another port.
PORT ?= 8000
serve:
	@test -f _build/html/index.html || { echo "There is no built book yet: run 'make book' first (it writes _build/html)."; exit 1; }
	@echo "Serving the book at http://127.0.0.1:$(PORT)/ (Ctrl-C stops it)"
	$(PYTHON) -m http.server --bind 127.0.0.1 --directory _build/html $(PORT)

torch: $(STAMP)
	$(BIN)/python -m pip install '$(TORCH_SPEC)' '$(SCHEDULEFREE_SPEC)' '$(LION_SPEC)'

clean:
	rm -rf _build .pytest_cache .hypothesis build dist *.egg-info
