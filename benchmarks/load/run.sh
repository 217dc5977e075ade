#!/usr/bin/env bash
# The load test of issue 15: 50 coders for 10 minutes on gunicorn + PostgreSQL.
#
#   python3 -m venv .venv-load && .venv-load/bin/pip install 'locust>=2.40'   # once, apart
#   benchmarks/load/run.sh [MINUTES]                                          # default 10
#
# Locust lives in a virtualenv of its own (it brings gevent and Flask, which the app does not
# need). The script drops and creates the database LOAD_DATABASE (default veerkracht_load) on
# the PostgreSQL at 127.0.0.1:5432, builds the study (setup_study.py), collects the static
# files, starts gunicorn with 3 workers and DEBUG off, runs locust headless, then checks every
# confirmed code against the database (check_segments.py). It prints the commit, the machine,
# the load average before and after, wall and CPU time, and locust's figures per request.
# Exits non-zero on any failed request or a lost or duplicated segment.
set -euo pipefail
cd "$(dirname "$0")/../.."

MINUTES=${1:-10}
PY=${PYTHON:-.venv/bin/python}
LOCUST=${LOCUST:-.venv-load/bin/locust}
GUNICORN=${GUNICORN:-$(dirname "$PY")/gunicorn}
DB=${LOAD_DATABASE:-veerkracht_load}
PORT=${LOAD_PORT:-8010}
OUT=${LOAD_OUT:-$(mktemp -d /tmp/veerkracht-load.XXXXXX)}

export DATABASE_URL="postgres://postgres@127.0.0.1:5432/${DB}"
export DEBUG=0 SECURE_COOKIES=0 ALLOWED_HOSTS=127.0.0.1
SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')
export SECRET_KEY
unset REDIS_URL  # no job is started here: tasks would run in-process

echo "commit $(git rev-parse --short HEAD), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

dropdb -h 127.0.0.1 -U postgres --if-exists "$DB"
createdb -h 127.0.0.1 -U postgres "$DB"
"$PY" benchmarks/load/setup_study.py "$OUT/plan.json"
"$PY" manage.py collectstatic --noinput -v0

"$GUNICORN" veerkracht.wsgi --bind "127.0.0.1:${PORT}" --workers 3 --timeout 60 \
    --error-logfile "$OUT/gunicorn.log" &
GUNICORN_PID=$!
trap 'kill "$GUNICORN_PID" 2>/dev/null || true' EXIT
for _ in $(seq 60); do
    curl -fs -o /dev/null "http://127.0.0.1:${PORT}/accounts/login/" && break
    sleep 0.5
done

start=$SECONDS
status=0
LOAD_PLAN="$OUT/plan.json" LOAD_APPLIED="$OUT/applied.json" "$LOCUST" \
    -f benchmarks/load/locustfile.py --headless -u "${LOAD_USERS:-50}" -r 5 -t "${MINUTES}m" \
    --host "http://127.0.0.1:${PORT}" --csv "$OUT/load" --only-summary --loglevel WARNING \
    --stop-timeout 60 \
    || status=$?
echo "wall $((SECONDS - start)) s for locust; gunicorn CPU (user+sys, master and workers):" \
    "$(ps --ppid "$GUNICORN_PID" -p "$GUNICORN_PID" -o times= | awk '{s += $1} END {print s}') s"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
kill "$GUNICORN_PID"
wait "$GUNICORN_PID" 2>/dev/null || true

"$PY" benchmarks/load/check_segments.py "$OUT/applied.json" || status=1
echo "server errors in the gunicorn log: $(grep -c 'Traceback' "$OUT/gunicorn.log" || true)"
"$PY" - "$OUT/load_stats.csv" <<'PY'
import csv, sys
print(f"{'request':<16} {'n':>7} {'fail':>5} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>7} ms")
for row in csv.DictReader(open(sys.argv[1])):
    print(f"{row['Name']:<16} {row['Request Count']:>7} {row['Failure Count']:>5} "
          f"{row['50%']:>6} {row['95%']:>6} {row['99%']:>6} {float(row['Max Response Time']):>7.0f}")
PY
echo "figures and logs in $OUT"
exit "$status"
