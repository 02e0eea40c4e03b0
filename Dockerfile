# syncd production image: non-root, PostgreSQL-ready (psycopg 3 with its binary wheel).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY syncd ./syncd
COPY connectors ./connectors
RUN pip wheel --no-cache-dir --wheel-dir /wheels '.[postgres]'

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 syncd \
    && mkdir -p /data /etc/syncd && chown syncd:syncd /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER syncd
WORKDIR /data
# The default SQLite database lives here; mount a volume to keep it across containers.
VOLUME ["/data"]
ENV SYNCD_CONFIG=/etc/syncd/syncd.toml \
    PYTHONUNBUFFERED=1
# Mount the configuration at /etc/syncd/syncd.toml; set SYNCD_DATABASE_URL to a
# postgresql+psycopg:// URL in production (the default is a SQLite file in /data).
ENTRYPOINT ["syncd"]
CMD ["run", "--log-format", "json"]
