#!/usr/bin/env bash
# CI: the cluster suite (tests/cluster/): two release server processes on one database behind nginx, and
# concurrent console imports, checking that the rules of DESIGN §3, §6, §9 and §11 hold under concurrency.
# Runs it on SQLite, then on PostgreSQL when NANBYO_TEST_POSTGRES holds an admin URL
# (postgres://postgres@127.0.0.1:5432/postgres; a fresh database is created and dropped per run).
# Installs what it needs (nginx, pdftotext, sqlite3, psql). Prints node's TAP, whose "# pass N" /
# "# fail N" lines the CI summary adds up; exits non-zero when any trial failed.
set -uo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v nginx >/dev/null || need_apt+=(nginx-light)
command -v pdftotext >/dev/null || need_apt+=(poppler-utils)
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
if [ -n "${NANBYO_TEST_POSTGRES:-}" ] && ! command -v psql >/dev/null; then need_apt+=(postgresql-client); fi
command -v node >/dev/null || need_apt+=(nodejs)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if ! apt-get install -y -qq "${need_apt[@]}" >/dev/null; then
    # nginx-light is not in every Debian release; the full package does the same here.
    need_apt=("${need_apt[@]/nginx-light/nginx}")
    apt-get install -y -qq "${need_apt[@]}" >/dev/null || { echo "cluster: cannot install ${need_apt[*]}"; exit 1; }
  fi
fi

echo "== cluster: building the release binary"
cargo build --release --bin nanbyo-accounts || { echo "cluster: build failed"; exit 1; }
export NANBYO_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/nanbyo-accounts"

status=0
summary=()
run_suite() { # label, then env assignments for the run
  local label=$1
  shift
  echo "== cluster: two instances behind nginx on $label"
  local out
  out=$(mktemp)
  env "$@" node --test --test-reporter=tap --test-concurrency=1 tests/cluster/cluster.test.mjs 2>&1 | tee "$out"
  local rc=${PIPESTATUS[0]}
  local pass fail
  pass=$(grep -Eo '^# pass [0-9]+' "$out" | awk '{s+=$3} END {print s+0}')
  fail=$(grep -Eo '^# fail [0-9]+' "$out" | awk '{s+=$3} END {print s+0}')
  rm -f "$out"
  summary+=("$label: $pass passed, $fail failed")
  if [ "$rc" -ne 0 ] || [ "$fail" -ne 0 ]; then status=1; fi
}

run_suite SQLite -u NANBYO_TEST_POSTGRES
if [ -n "${NANBYO_TEST_POSTGRES:-}" ]; then
  run_suite PostgreSQL "NANBYO_TEST_POSTGRES=$NANBYO_TEST_POSTGRES"
else
  summary+=("PostgreSQL: skipped (NANBYO_TEST_POSTGRES is not set)")
fi

for line in "${summary[@]}"; do echo "cluster: $line"; done
exit $status
