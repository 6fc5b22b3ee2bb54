# Two commands for a fresh clone with python3 and make: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install  ## install, then serve in dev mode with the embedded broker
	$(BIN)/gateway dev

typecheck: install
	$(BIN)/python -m mypy

unit: install
	$(BIN)/python -m pytest -q

test: typecheck unit  ## install, then type-check and run the whole suite

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache
