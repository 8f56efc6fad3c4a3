# stocksync as a container, for hosts other than Vercel (Fly.io, Render, Railway, Cloud Run,
# ECS, Kubernetes, a VM with Docker): runtime dependencies only, as a non-root user.
#
#   docker build -t stocksync .
#   docker run -p 8000:8000 --env-file .env -v stocksync-data:/data stocksync
#
# The build stage makes /app/.venv from the committed uv.lock (no dev group, the project
# installed as a wheel); the final stage is that venv on the same slim Python, nothing else.

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# The uv that wrote uv.lock (the same pin as uvw.py), from PyPI like every other package.
RUN pip install --no-cache-dir --disable-pip-version-check uv==0.13.9
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Dependencies first, in their own layer: a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY schemas ./schemas
COPY cms_client ./cms_client
COPY service ./service
RUN uv sync --locked --no-dev --no-editable

FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin stocksync \
    && mkdir /data && chown stocksync /data
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    STOCKSYNC_DATA=/data/lake.sqlite3 \
    PORT=8000
# The embedded lake's file, when SANITY_PROJECT_ID is unset (with Sanity, nothing is stored).
VOLUME /data
WORKDIR /app
USER stocksync
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/api/health', timeout=4)"]
# Most hosts say which port to listen on in $PORT.
CMD ["sh", "-c", "exec stocksync serve --host 0.0.0.0 --port \"$PORT\""]
