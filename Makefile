# vibeshelf: `make run` sets up and serves on the bundled data; `make test` runs lint + the test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# No model hub or price-list fetches: everything ships in packages.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: install run ingest serve test lint format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch for ingest only (the server never imports it), pinned to 2.13.0. Which build pip picks comes
	# from its index: PyPI's Linux wheel is the multi-GB CUDA one, a CPU index (pip.conf, PIP_INDEX_URL,
	# or the local wheel mirror on our dev machines) gives the CPU one.
	$(BIN)/pip install --quiet torch==2.13.0
	# [spark]: the Spark CF engine's test needs PySpark (users install the extra only if they use it).
	$(BIN)/pip install --quiet -e '.[ingest,dev,spark]'
	touch $@

ingest: install
	$(BIN)/vibeshelf ingest --if-needed

run: ingest
	$(BIN)/vibeshelf serve

serve: install
	$(BIN)/vibeshelf serve

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

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
