#!/usr/bin/env bash
# CareNet: the two commands a fresh machine needs (see README.md).
#   ./run.sh demo   set up, load a synthetic district, start simulated devices, serve http://127.0.0.1:8000
#   ./run.sh test   set up and run the whole test suite (SQLite; again on PostgreSQL when it answers)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

log() { printf '\033[1;34m[carenet]\033[0m %s\n' "$*"; }

find_python() {
  for candidate in "${CARENET_PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$candidate"; return 0
    fi
  done
  echo "Python 3.11 or newer is required" >&2; return 1
}

setup() {
  if [ ! -x "$PY" ]; then
    log "creating virtual environment in .venv"
    "$(find_python)" -m venv "$VENV"
  fi
  local stamp="$VENV/.carenet-installed"
  local want
  want=$(cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing Python packages (first run only)"
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install -q -r requirements-dev.txt
    "$PY" -m pip install -q --no-deps -e .
    echo "$want" > "$stamp"
  fi
}

pg_answers() {
  "$PY" - <<'PYEOF' 2>/dev/null
import socket, sys
try:
    socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
except OSError:
    sys.exit(1)
PYEOF
}

cmd_demo() {
  setup
  export CARENET_DEMO=1
  log "migrating the database (SQLite under var/ unless CARENET_DATABASE_URL is set)"
  "$PY" manage.py migrate --noinput -v0
  "$PY" manage.py seed --if-empty --elders "${CARENET_DEMO_ELDERS:-2000}"
  "$PY" manage.py seed_assistance            # standards, sample cases and payrolls (idempotent)
  "$PY" manage.py run_payroll --pending      # finish a payroll run that a restart interrupted
  "$PY" manage.py seed_callcenter --if-empty  # a month of handled alarms and care calls for the KPIs
  "$PY" manage.py seed_civic --if-empty       # service catalogue, applications, 七单 and 微心愿 in every state
  "$PY" manage.py seed_facilities --if-empty  # about 230 facilities with staff, residents, evaluations, smart rooms
  "$PY" manage.py seed_matching --if-empty    # department files with planted integrity findings
  "$PY" manage.py seed_homecare --if-empty    # providers, helpers, a month of home-care services, visits, live orders
  if [ ! -d var/policy_index ]; then
    # In the background, so the login page answers at once; the policy pages say "正在建立索引…" meanwhile.
    log "building the regulation search index in the background (first run only, a few minutes; log: var/policy_index.log)"
    nice -n 10 "$PY" manage.py build_policy_index --vectors > var/policy_index.log 2>&1 &
  elif [ ! -f var/policy_vectors/progress.json ] || ! grep -q '"done": true' var/policy_vectors/progress.json; then
    # the dense vectors continue where they stopped (most useful laws first); search uses what is ready
    nice -n 10 "$PY" manage.py build_policy_vectors > var/policy_vectors.log 2>&1 &
  fi
  log "starting simulated homes, the ingest worker and the timer rules"
  "$PY" manage.py demo_services &
  SERVICES=$!
  trap 'kill $SERVICES 2>/dev/null || true' EXIT
  log "serving on http://127.0.0.1:${PORT:-8000}/  (demo logins are listed on the login page)"
  "$VENV/bin/daphne" -b 127.0.0.1 -p "${PORT:-8000}" carenet.asgi:application
}

cmd_test() {
  setup
  mkdir -p test-artifacts
  local status=0
  if [ "${CI:-}" = "true" ]; then
    export CARENET_REQUIRE_SERVICES="${CARENET_REQUIRE_SERVICES:-postgres,mqtt,nats,browser}"
  fi
  local pg_url="${CARENET_TEST_DATABASE_URL:-}"
  if [ -z "$pg_url" ] && pg_answers; then
    pg_url="postgres://postgres@127.0.0.1:5432/carenet"
  fi

  log "test pass 1: embedded SQLite"
  CARENET_DATABASE_URL="sqlite:///$ROOT/var/test-sqlite.sqlite3" CARENET_REQUIRE_SERVICES="${CARENET_REQUIRE_SERVICES:-}" \
    "$PY" -m pytest -m "not postgres" "$@" || status=$?
  [ "$status" -eq 0 ] || { log "SQLite pass failed"; exit "$status"; }

  if [ -n "$pg_url" ]; then
    log "test pass 2: PostgreSQL at ${pg_url%%\?*}"
    CARENET_DATABASE_URL="$pg_url" "$PY" -m pytest "$@" || status=$?
  elif [[ ",${CARENET_REQUIRE_SERVICES:-}," == *",postgres,"* ]]; then
    log "PostgreSQL is required (CI) but does not answer on 127.0.0.1:5432"; exit 1
  else
    log "PostgreSQL does not answer on 127.0.0.1:5432: the PostgreSQL pass is skipped (set CARENET_TEST_DATABASE_URL to run it)"
  fi
  exit "$status"
}

case "${1:-}" in
  demo) shift; cmd_demo "$@" ;;
  test) shift; cmd_test "$@" ;;
  *) echo "usage: ./run.sh demo | ./run.sh test [pytest args]" >&2; exit 2 ;;
esac
