#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the test suite's PostgreSQL run (NANBYO_TEST_POSTGRES).
#
#   eval "$(.ci/postgres.sh start)"   # initdb into a fresh temp dir, start it on a free 127.0.0.1 port;
#                                     # prints `export NANBYO_PG_DIR=… NANBYO_TEST_POSTGRES=postgres://…`
#   cargo test                        # every test then gets a database of its own on that cluster
#   .ci/postgres.sh stop              # stops the cluster of $NANBYO_PG_DIR and removes the dir
#                                     # (or: .ci/postgres.sh stop DIR)
#
# Needs the server binaries (Debian: `apt-get install postgresql`, found in /usr/lib/postgresql/*/bin).
# As root the cluster runs as user `postgres` (runuser); as another user, as that user. Trust
# authentication, loopback only, the unix socket inside the temp dir, fsync off: for tests only.
# Progress and errors go to stderr; only the export line goes to stdout.
set -euo pipefail

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return; }
  echo "postgres.sh: no PostgreSQL server binaries (apt-get install postgresql)" >&2
  return 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A port nothing listens on (the start retries with another one if it is taken meanwhile).
free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    return
  fi
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

start() {
  local bin dir port attempt
  bin=$(pg_bin)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/nanbyo-pg.XXXXXX")
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  if ! as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync \
    >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    return 1
  fi
  cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t 60 start \
      >/dev/null; then
      echo "postgres.sh: PostgreSQL $("$bin/postgres" -V | awk '{print $3}') on 127.0.0.1:$port ($dir)" >&2
      echo "export NANBYO_PG_DIR='$dir' NANBYO_TEST_POSTGRES='postgres://postgres@127.0.0.1:$port/postgres'"
      return
    fi
    echo "postgres.sh: start on port $port failed (attempt $attempt)" >&2
  done
  cat "$dir/server.log" >&2 || true
  rm -rf "$dir"
  return 1
}

stop() {
  local dir=${1:-${NANBYO_PG_DIR:-}}
  [ -n "$dir" ] || { echo "postgres.sh stop: no DIR and no NANBYO_PG_DIR" >&2; return 1; }
  case $dir in */nanbyo-pg.*) ;; *) echo "postgres.sh stop: $dir is not a cluster of ours" >&2; return 1 ;; esac
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case ${1:-} in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop [DIR]" >&2; exit 2 ;;
esac
