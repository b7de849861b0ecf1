# syntax=docker/dockerfile:1
# Build: docker build -t mssc-registry .
# Run:   docker run -e DATABASE_URL=postgresql://user:pass@db:5432/mssc \
#          -e MSSC_ISSUER=https://registry.example.org -p 8000:8000 mssc-registry
# Without a registry or a Docker engine: scripts/check-image (docs/operators/image.md).

# The base image, for both stages: the virtualenv built in the first links to that image's
# interpreter, so the second must have the same one at the same path. Any image with
# python3 (3.11 or newer) and its venv module will do, e.g. a local Debian bookworm.
ARG PYTHON_IMAGE=python:3.12-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/mssc
WORKDIR /src
COPY pyproject.toml README.md ./
COPY api ./api
COPY auth ./auth
COPY cli ./cli
COPY db ./db
RUN /opt/mssc/bin/pip install .

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 mssc \
 && useradd --system --uid 10001 --gid mssc --home-dir /var/lib/mssc --create-home mssc
COPY --from=build /opt/mssc /opt/mssc
ENV PATH=/opt/mssc/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MSSC_ENV=production \
    MSSC_DATA_DIR=/var/lib/mssc
USER mssc
WORKDIR /var/lib/mssc
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
CMD ["mssc", "serve", "--host", "0.0.0.0", "--port", "8000"]
