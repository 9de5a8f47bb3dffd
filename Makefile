# The two commands: `make book` and `make test`. Each creates .venv on first use.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(wildcard chapters/*.ipynb)
# torch is optional: it enables the torch.optim cross-check and the torch columns of `make bench`.
TORCH_SPEC ?= torch==2.13.0

.PHONY: book test bench lab serve clean torch venv notebooks

venv: $(STAMP)

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 or python3 on PATH)"; exit 1; }
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is needed, found " + sys.version'
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml requirements.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e '.[test,fast]'
	@touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html (make serve shows it at http://localhost:8000)"

test: $(STAMP)
	$(BIN)/python -m pytest tests $(if $(NOTEBOOKS),--nbval --nbval-current-env $(NOTEBOOKS))

# `make bench` runs every benchmark; `make bench BENCH="steps book"` only those.
bench: $(STAMP)
	@$(BIN)/python -m bench $(BENCH)

# Re-execute the chapter notebooks in place (after changing optlib): nbval compares these outputs.
notebooks: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py

lab: $(STAMP)
	$(BIN)/jupyter lab chapters

serve:
	$(BIN)/python -m http.server --directory _build/html 8000

torch: $(STAMP)
	$(BIN)/python -m pip install '$(TORCH_SPEC)'

clean:
	rm -rf _build .pytest_cache .hypothesis
