# vibeshelf: `make run` sets up and serves on the bundled data; `make test` runs lint + the test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# No model hub or price-list fetches: everything ships in packages.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: install run ingest serve test lint format typecheck lock bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch for ingest only (the server never imports it), pinned to 2.13.0. Which build pip picks comes
	# from its index: PyPI's Linux wheel is the multi-GB CUDA one, a CPU index (pip.conf, PIP_INDEX_URL,
	# or the local wheel mirror on our dev machines) gives the CPU one.
	$(BIN)/pip install --quiet torch==2.13.0
	# Everything else at the versions requirements.lock pins (see `make lock`), then the project itself
	# without resolving again; pip check fails the install when the lock misses a dependency.
	# [spark]: the Spark CF engine's test needs PySpark (users install the extra only if they use it).
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e '.[ingest,dev,spark]'
	$(BIN)/pip check
	touch $@

# Re-pin requirements.lock after a dependency change in pyproject.toml (whose >= floors stay, for library
# users). The lock is for Linux x86_64 and Python 3.11 (CI and the image), resolved against torch's CPU
# build (.ci/torch-cpu.txt), whose wheel comes from TORCH_WHEELS (a folder, or the PyTorch CPU index URL).
TORCH_WHEELS ?= /opt/wheels
lock: install
	$(BIN)/pip install --quiet 'uv>=0.5'
	$(BIN)/uv pip compile pyproject.toml --extra ingest --extra dev --extra spark \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		--find-links $(TORCH_WHEELS) --override .ci/torch-cpu.txt --no-emit-package torch \
		--custom-compile-command 'make lock' --quiet -o requirements.lock

ingest: install
	$(BIN)/vibeshelf ingest --if-needed

run: ingest
	$(BIN)/vibeshelf serve

serve: install
	$(BIN)/vibeshelf serve

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory typecheck
	$(BIN)/pytest

# mypy over the package as it installs (settings in pyproject.toml): .typecheck/vibeshelf links the top-level
# folders under their installed names (vibeshelf.agent -> agent/), which the editable install maps at import.
typecheck: install
	@rm -rf .typecheck && mkdir -p .typecheck/vibeshelf
	@for f in vibeshelf/*.py; do ln -s "$(CURDIR)/$$f" .typecheck/vibeshelf/; done
	@for p in agent retrieval tools ingest web prompts; do ln -s "$(CURDIR)/$$p" .typecheck/vibeshelf/$$p; done
	$(BIN)/mypy

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Figures on the index `make run` built (.vibeshelf); bench/ingest.py builds its own in a temp folder.
bench: ingest
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/cf.py
	VIBESHELF_HOME=.vibeshelf $(BIN)/python bench/retrieval.py
	$(BIN)/python bench/planner.py --home .vibeshelf
	VIBESHELF_HOME=.vibeshelf $(BIN)/python bench/chat.py
	$(BIN)/python bench/memory.py --home .vibeshelf

clean:
	rm -rf $(VENV) .vibeshelf .pytest_cache .ruff_cache
