# SCFM production image: the same image runs the web server, the Celery workers, the scheduler and migrations
# (see docker-compose.yml and docs/production.md).
FROM python:3.11-slim

# PROMETHEUS_MULTIPROC_DIR: where each process of a container counts its metrics (scfm/metrics.py); in the
# container's own /tmp, never a shared volume (two containers' processes may have the same pid)
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SCFM_DATA_DIR=/data \
    SCFM_LOG_FORMAT=json \
    PROMETHEUS_MULTIPROC_DIR=/tmp/scfm-metrics

WORKDIR /app
RUN useradd --create-home --uid 10001 scfm \
    && mkdir -p /data \
    && chown scfm:scfm /data

COPY . .
# Every dependency at the version pinned in requirements.lock: the versions CI tests (`make install` uses the same file).
RUN pip install . -c requirements.lock && python -m compileall -q /app

USER scfm
EXPOSE 8000
# the web service's command in docker-compose.yml, word for word (tests/ops/test_production_layout.py checks it)
CMD ["sh", "-c", "exec gunicorn scfm.wsgi:application --config python:scfm.gunicorn_config --bind 0.0.0.0:8000 --workers \"${WEB_CONCURRENCY:-2}\" --threads 4"]
