# kiroku CPU image: the `kiroku` command with the bundled Whisper base model assembled at build time.
# The api/worker split and the CUDA worker image come with the service (issues 5 and 9).
FROM python:3.11-slim AS base
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 KIROKU_HOME=/var/lib/kiroku
RUN useradd --system --create-home --home-dir /home/kiroku kiroku \
 && mkdir -p /var/lib/kiroku && chown kiroku /var/lib/kiroku
WORKDIR /opt/kiroku
COPY pyproject.toml README.md ./
COPY kiroku ./kiroku
COPY transcriber ./transcriber
COPY dictionaries ./dictionaries
COPY worker ./worker
COPY api ./api
COPY web ./web
RUN pip install . && kiroku models install
USER kiroku
ENTRYPOINT ["kiroku"]
CMD ["--help"]
