# Two commands for a fresh clone with python3 and make: `make run` and `make test`.
# Both install into .venv from the committed lock (requirements/*.txt, pinned with hashes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
# The project itself, against the locked setuptools: no unpinned build environment.
INSTALL_PROJECT := $(PIP) install --quiet --no-deps --no-build-isolation -e .

.PHONY: install install-run run test typecheck unit bench bench-memory lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# What running needs: the gateway and the embedded broker (requirements/run.txt).
$(VENV)/.installed-run: requirements/run.txt pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r requirements/run.txt
	$(INSTALL_PROJECT)
	touch $@

# Everything: run + tests, linters, type checker, benchmark baselines (requirements/dev.txt).
$(VENV)/.installed-dev: requirements/dev.txt pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r requirements/dev.txt
	$(INSTALL_PROJECT)
	touch $@ $(VENV)/.installed-run

install-run: $(VENV)/.installed-run
install: $(VENV)/.installed-dev

run: install-run  ## install what running needs, then serve in dev mode with the embedded broker
	@exec $(BIN)/gateway dev

typecheck: install
	$(BIN)/ruff check gateway adapters schemas tests bench
	$(BIN)/python -m mypy

unit: install
	$(BIN)/python -m pytest -q

test: typecheck unit  ## install, then type-check and run the whole suite

lock: install  ## re-solve requirements/*.txt from pyproject.toml's ranges (UPGRADE=1: newest allowed versions)
	UV=$(BIN)/uv UPGRADE=$(UPGRADE) requirements/lock.sh

bench: install  ## the benchmark: gateway vs a FastAPI receiver vs bare Starlette, and on Redis (needs wrk, redis-server)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) || \
		{ echo "install wrk (Debian: apt-get install wrk)"; exit 1; }
	command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq redis-server) || \
		{ echo "install redis-server (Debian: apt-get install redis-server)"; exit 1; }
	$(BIN)/python -m bench.run

bench-memory: install  ## the gateway alone to 1M requests, RSS at 100k and 1M
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.run --memory

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache
