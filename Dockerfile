# syntax=docker/dockerfile:1.7
# Two stages that matter:
#   build   : torch (CPU) + sentence-transformers; runs `vibeshelf ingest` to produce the index.
#   runtime : onnxruntime + tokenizers only (no torch, no compilers); serves the index from /data.
# Both take the package sources from the `source` stage, so building the runtime image never builds the
# torch stage. .dockerignore keeps the context to those sources.
# Build:  docker build -t vibeshelf .                       (runtime image, index not baked in)
#         docker build --target index -t vibeshelf-index --build-context data=../shared/data/goodbooks .
# Or use docker-compose.yml, which builds the index into a volume first.

ARG PYTHON=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------
# The package sources, nothing else (the build context is cut down the same way by .dockerignore).
FROM scratch AS source
COPY pyproject.toml README.md /src/
COPY vibeshelf /src/vibeshelf
COPY agent /src/agent
COPY retrieval /src/retrieval
COPY tools /src/tools
COPY ingest /src/ingest
COPY web /src/web
COPY prompts /src/prompts

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 LITELLM_LOCAL_MODEL_COST_MAP=True
WORKDIR /src
RUN python -m venv /opt/build-venv
ENV PATH=/opt/build-venv/bin:$PATH
# CPU-only torch wheel; an unpinned torch pulls a multi-GB CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY --from=source /src /src
# Installs this checkout (versions come from pyproject.toml).
# hadolint ignore=DL3013
RUN pip install '.[ingest]'
# Same uid as the runtime user so an index volume written here is writable there (state.duckdb).
RUN groupadd --system --gid 10001 vibeshelf \
    && useradd --system --uid 10001 --gid vibeshelf --home-dir /data vibeshelf \
    && mkdir -p /data && chown vibeshelf:vibeshelf /data
USER 10001:10001

# ---------------------------------------------------------------------------------------------
# Runs the ingest with the raw data passed as a build context named "data".
FROM build AS index
RUN --mount=type=bind,from=data,target=/raw \
    VIBESHELF_HOME=/data vibeshelf ingest --path /raw

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON} AS runtime-deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=source /src /src
# Serving dependencies only (pyproject's [project.dependencies]): no torch, no build tools.
RUN python -m venv /opt/venv && /opt/venv/bin/pip install /src

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LITELLM_LOCAL_MODEL_COST_MAP=True \
    VIBESHELF_HOME=/data \
    VIBESHELF_HOST=0.0.0.0 \
    VIBESHELF_PORT=8000
RUN groupadd --system --gid 10001 vibeshelf \
    && useradd --system --uid 10001 --gid vibeshelf --home-dir /data vibeshelf \
    && mkdir -p /data && chown vibeshelf:vibeshelf /data
COPY --from=runtime-deps /opt/venv /opt/venv
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
# Asks the port (and host) the server is configured with (VIBESHELF_PORT, VIBESHELF_HOST, /data/.env).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["vibeshelf", "healthcheck"]
CMD ["vibeshelf", "serve"]
