# syntax=docker/dockerfile:1
#
# Revo Console image: the Streamlit console (default command) and, with another command, the
# `revo` CLI (`revo db upgrade`, later `revo worker`). Build: docker build -t revo-console .
#
# Run alone (SQLite in /app/var; mount a volume there to keep the data):
#   docker run -p 8501:8501 -v revo-data:/app/var revo-console
# With PostgreSQL and Ollama: see compose.yaml.

FROM python:3.11-slim-bookworm

# uv from PyPI, pinned to the version that wrote uv.lock (`uv --version`).
ARG UV_VERSION=0.13.9
RUN PIP_ROOT_USER_ACTION=ignore pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11

RUN groupadd --system --gid 10001 revo \
 && useradd --system --uid 10001 --gid 10001 --home-dir /home/revo --create-home \
        --shell /usr/sbin/nologin revo

WORKDIR /app

# Dependencies first, so this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

# Then the app. The project is installed editable (uv's default), which it needs:
# services/migrate.py finds migrations/ next to services/, and pages/ is not in the wheel.
# The code stays owned by root (read-only for the app); only /app/var is writable.
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev \
 && mkdir -p /app/var \
 && chown 10001:10001 /app/var

# The image runs password sign-in: create a workspace and its first admin with
# `revo tenants create` and `revo users create --role admin` (README: Production set-up).
# Demo sign-in refuses non-loopback listen addresses, so never set REVO_AUTH_MODE=demo here.
ENV REVO_DATABASE_URL=sqlite:////app/var/revo.db \
    REVO_AUTH_MODE=password \
    PATH=/app/.venv/bin:$PATH

USER 10001:10001

EXPOSE 8501

# No curl in slim images: ask /readyz with the standard library. It answers 503 (urlopen raises,
# the check exits non-zero) while the database is unreachable or its migrations are behind.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/readyz', timeout=4)"]

# Migrate, then replace the shell with Streamlit so it gets SIGTERM directly.
CMD ["sh", "-c", "revo db upgrade && exec streamlit run app.py --server.address 0.0.0.0 --server.port 8501 --server.headless true"]
