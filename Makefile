# Two commands for a fresh clone with python3 and make: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test typecheck unit bench bench-memory clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

run: install  ## install, then serve in dev mode with the embedded broker
	$(BIN)/gateway dev

typecheck: install
	$(BIN)/ruff check gateway adapters schemas tests bench
	$(BIN)/python -m mypy

unit: install
	$(BIN)/python -m pytest -q

test: typecheck unit  ## install, then type-check and run the whole suite

bench: install  ## the benchmark: gateway vs a FastAPI receiver vs bare Starlette (needs wrk)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) || \
		{ echo "install wrk (Debian: apt-get install wrk)"; exit 1; }
	$(BIN)/python -m bench.run

bench-memory: install  ## the gateway alone to 1M requests, RSS at 100k and 1M
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.run --memory

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache
