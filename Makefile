# The two commands a newcomer needs: `make run` and `make test`.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check format bench clean

run: $(STAMP)
	$(BIN)/pumppilot demo

test: check
	scripts/firmware-deps
	$(MAKE) -C firmware test
	$(BIN)/pytest

# Format, lint and type checks: the part of `make test` that does not run the code.
check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench.poll
	$(BIN)/python -m bench.login
	$(BIN)/python -m bench.engines
	$(BIN)/python -m bench.graphql
	$(BIN)/python -m bench.fanout

$(STAMP): pyproject.toml
	test -x $(BIN)/python || "$$(scripts/find-python)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
