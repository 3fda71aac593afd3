# Production image: slim, non-root, `python -m bot run`, health-checked.
# ENVIRONMENT=production: the container refuses to start until SECRET_KEY is given a real value
# (docker run -e SECRET_KEY=...).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 ENVIRONMENT=production \
    BOT_HOST=0.0.0.0 BOT_PORT=8080 CONFIG_DIR=/app/config \
    DATABASE_URL=sqlite+aiosqlite:////app/data/bot.db MEDIA_DIR=/app/data/media
WORKDIR /app

COPY pyproject.toml ./
COPY bot ./bot
COPY config ./config
RUN pip install . \
    && useradd --create-home --uid 10001 bot \
    && mkdir -p /app/data \
    && chown bot:bot /app/data

USER bot
EXPOSE 8080
VOLUME ["/app/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"
CMD ["python", "-m", "bot", "run"]
