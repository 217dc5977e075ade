# The web app (gunicorn) and the Celery worker share this image; docker-compose.yml runs both.
FROM python:3.11-slim

# Production settings by default: DEBUG off, so the app refuses to start without a SECRET_KEY
# of your own (docker-compose.yml passes it from .env).
ENV DEBUG=0 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# gettext provides msgfmt for compilemessages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so changing the code does not reinstall them. The project itself has no
# installable packages (pyproject.toml: packages = []); the code runs from /app.
COPY pyproject.toml ./
RUN pip install .

COPY . .

# Static files are collected (hashed and compressed for whitenoise, as DEBUG=0 selects) and
# translations compiled at build time; neither needs a database or the real SECRET_KEY.
RUN DEBUG=0 SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput \
    && if [ -n "$(find . -type d -name locale -print -quit)" ]; then \
         DEBUG=0 SECRET_KEY=build-only-not-secret python manage.py compilemessages; \
       fi

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin veerkracht \
    && mkdir -p /app/media \
    && chown veerkracht /app/media
USER veerkracht

EXPOSE 8000
CMD ["gunicorn", "veerkracht.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
