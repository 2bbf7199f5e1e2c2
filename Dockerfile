# kompetensbot's image (README "Containers"): `kompetensbot serve` by default, any other
# command as the container's arguments (`docker run … kompetensbot db upgrade`: the migration
# is a one-shot container or job of its own, never done by serve).
#
# The base is Debian 12 (bookworm) with Python 3.11, as on our machines. Pin its digest
# (python:3.11-slim-bookworm@sha256:…) when building for production.

# --- build: the locked dependencies and the project, in a venv of their own --------------
FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv

WORKDIR /src

# The running bot's lock: every package at its pinned version, each file checked against its
# sha256 (README "The lock files"); two of them are pure-Python sdists, built without a compiler.
COPY requirements/main.txt requirements/main.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/main.txt

# Then the project alone (pip refuses it beside --require-hashes), and pip check fails the
# build if pyproject.toml asks for something the lock does not hold.
COPY pyproject.toml ./
COPY core core/
COPY storage storage/
COPY bot bot/
COPY dialogs dialogs/
COPY cli cli/
RUN pip install --no-cache-dir --no-deps . \
    && pip check

# --- run: the venv, a user without rights, no compiler, no sources -------------------------
FROM python:3.11-slim-bookworm

LABEL org.opencontainers.image.title="kompetensbot" \
      org.opencontainers.image.description="Teams-bot och regelkärna för kompetensutvecklingsmedel i svenska kommuner"

RUN groupadd --system --gid 10001 kompetensbot \
    && useradd --system --uid 10001 --gid kompetensbot --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin kompetensbot \
    && install -d -o kompetensbot -g kompetensbot /app

COPY --from=build /opt/venv /opt/venv

# KOMPETENSBOT_HOST: every address of the container. `serve` allows that only with credentials
# (bot/config.py, check_serve); without them it stops and says so. The port is serve's own
# default, 3978 (PORT or KOMPETENSBOT_PORT changes it; the health check follows).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    KOMPETENSBOT_HOST=0.0.0.0

WORKDIR /app
USER 10001:10001

EXPOSE 3978

# GET /healthz (the server and its database): exit 0 only on 200. `python -m cli.health` is
# `kompetensbot health` without the whole command line's imports (cli/health.py). Every 2 s
# while it starts (--start-interval: Docker Engine 25 or later), then every 30 s.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --start-interval=2s --retries=3 \
    CMD ["python", "-m", "cli.health"]

ENTRYPOINT ["kompetensbot"]
CMD ["serve"]
