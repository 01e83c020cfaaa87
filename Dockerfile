# The case monitor daemon: `docker compose up` (docker-compose.yml) runs it with PostgreSQL
# and Mailpit. config/ and baseline/ are mounted at run time, not baked in, so editing them
# on the host takes effect without a rebuild (the daemon reloads config/).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 monitor
WORKDIR /srv/monitor

# Only what the package needs, so a change to tests or docs does not invalidate the layer.
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN pip install . && rm -rf build *.egg-info

RUN mkdir -p /data config baseline && chown monitor:monitor /data
USER monitor

# Defaults for the container; docker-compose.yml or `docker run -e` override them.
ENV MONITOR_DATA_DIR=/data \
    MONITOR_HTTP_HOST=0.0.0.0 \
    MONITOR_HTTP_PORT=8080
VOLUME ["/data"]
EXPOSE 8080

# Exec form: `monitor` is PID 1 and gets SIGTERM itself, which stops the daemon cleanly.
STOPSIGNAL SIGTERM
ENTRYPOINT ["monitor", "--config", "/srv/monitor/config", "--baseline", "/srv/monitor/baseline"]
CMD ["run"]
