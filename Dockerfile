# The production image: the same steps as `make run` (apply the migrations, then serve), on
# 0.0.0.0:8000 as a non-root user, with SQLite in the /data volume by default.
#
#   docker build -t rehab-plans .
#   docker run -d -p 8000:8000 -v rehab-data:/data \
#       -e REHAB_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')" \
#       rehab-plans
#   docker exec -it <container> rehab create-clinic --name ... --admin-email ... --admin-password ...
#
# REHAB_SECRET_KEY is never baked in: production refuses to start without one of at least 32
# characters, and every container serving the same database must share it. Set DATABASE_URL to
# use PostgreSQL instead of the SQLite file.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 rehab \
    && useradd --system --uid 10001 --gid rehab --no-create-home --home-dir /data \
        --shell /usr/sbin/nologin rehab \
    && install --directory --owner rehab --group rehab --mode 0750 /data

WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
RUN pip install . && rm -rf /src

ENV REHAB_ENV=production \
    DATABASE_URL=sqlite:////data/rehab.db

# A named volume takes /data's owner (rehab); a bind-mounted host directory must be writable
# by uid 10001.
VOLUME ["/data"]
WORKDIR /data
USER rehab
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

# exec: uvicorn becomes PID 1 and receives docker stop's SIGTERM.
CMD ["sh", "-c", "rehab migrate && exec rehab serve --host 0.0.0.0 --port 8000"]
