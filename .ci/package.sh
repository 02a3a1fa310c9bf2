#!/usr/bin/env bash
# CI: the Debian package. Builds it with cargo-deb, installs it (dpkg -i, as root), checks the installed
# files, user and folders, runs the console and the server the way the systemd units would (same user,
# environment, working directory and umask, read from the installed unit files: this machine has no
# systemd as PID 1, so the units themselves are checked statically with systemd-analyze verify/security),
# reinstalls it as an upgrade, purges it and checks what stays, and cleans up so that it can run again.
#
# It installs into the real /usr, /etc and /var/lib: run it on a throw-away machine (CI). It refuses to
# touch an installation it did not make (marked by a file in the data folder).
#
# One "ok N - …" / "not ok N - …" line per check, then "# pass N" and "# fail N"; exit status 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

DATA=/var/lib/nanbyo-accounts
IMPORT=/var/lib/nanbyo-accounts-import
ETC=/etc/nanbyo-accounts
UNITS=/usr/lib/systemd/system
BIN=/usr/bin/nanbyo-accounts
MARK=.nanbyo-ci-package-test
MAX_EXPOSURE=2.0

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - $1"; }
# check DESCRIPTION COMMAND…: one check.
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}
finish() {
  echo "# pass $pass"
  echo "# fail $fail"
  [ "$fail" -eq 0 ] && exit 0
  exit 1
}
step() { echo "== package: $*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "package.sh installs a package: run it as root (CI)" >&2
  exit 1
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' nanbyo-accounts 2>/dev/null)" = installed ]; }
# What an earlier run left (never anything else).
remove_leftovers() {
  local d
  for d in "$DATA" "$IMPORT"; do
    if [ -e "$d" ] && [ ! -e "$DATA/$MARK" ]; then
      echo "$d exists and was not made by this script: not touching a real installation" >&2
      return 1
    fi
  done
  if dpkg-query -W nanbyo-accounts >/dev/null 2>&1; then
    if [ ! -e "$DATA/$MARK" ]; then
      echo "nanbyo-accounts is installed and not by this script: not touching a real installation" >&2
      return 1
    fi
    dpkg --purge nanbyo-accounts >/dev/null || return 1
  fi
  rm -rf "$DATA" "$IMPORT"
}

# mode_is PATH "MODE USER GROUP"
mode_is() {
  local got
  got=$(stat -c '%a %U %G' "$1" 2>/dev/null)
  [ "$got" = "$2" ] || { echo "  $1: $got, expected $2" >&2; return 1; }
}
nothing_found() { [ -z "$(find "$@" 2>/dev/null | head -5)" ]; }

# --- what a unit would run: read from the installed unit file -------------------------------------
# unit_values UNIT KEY: every value of KEY= (in file order).
unit_values() { sed -n "s/^$2=//p" "$UNITS/$1"; }
# unit_env UNIT: the environment systemd would give the service, one NAME=VALUE a line
# (Environment= and EnvironmentFile=, "-" = optional; the simple quoting-free forms these units use).
unit_env() {
  local line file
  while read -r line; do
    printf '%s\n' $line
  done < <(unit_values "$1" Environment)
  while read -r file; do
    file=${file#-}
    [ -f "$file" ] && grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$file"
  done < <(unit_values "$1" EnvironmentFile)
}
# as_unit_exec UNIT [NAME=VALUE…] -- COMMAND…: becomes (exec) COMMAND as User=/Group=/SupplementaryGroups=
# of UNIT, in its WorkingDirectory= with its UMask=, with nothing but its environment (plus NAME=VALUE).
# Run in the background (as_unit_exec … &), $! is then the command's own process.
as_unit_exec() {
  local unit=$1 user group wd umask groups="" g
  shift
  local extra=()
  while [ "$1" != -- ]; do extra+=("$1"); shift; done
  shift
  user=$(unit_values "$unit" User)
  group=$(unit_values "$unit" Group)
  wd=$(unit_values "$unit" WorkingDirectory)
  umask=$(unit_values "$unit" UMask)
  for g in $(unit_values "$unit" SupplementaryGroups); do
    groups=${groups:+$groups,}$(getent group "$g" | cut -d: -f3)
  done
  local env=() supplementary=(--clear-groups)
  [ -n "$groups" ] && supplementary=(--groups="$groups")
  mapfile -t env < <(unit_env "$unit")
  cd "${wd:-/}" && umask "${umask:-0022}" &&
    exec setpriv --reuid="$user" --regid="$group" "${supplementary[@]}" \
      -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${env[@]}" "${extra[@]}" "$@"
}
# as_unit …: the same, in a child process (returns its exit status).
as_unit() { (as_unit_exec "$@"); }
# unit_command UNIT KEY: the command line of ExecStart=/ExecStartPre= without the "-" prefix.
unit_command() { unit_values "$1" "$2" | head -1 | sed 's/^[-@:+!]*//'; }

free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
  return 1
}

# --- 0. tools ------------------------------------------------------------------------------------
step "tools"
need_apt=()
command -v systemd-analyze >/dev/null || need_apt+=(systemd)
command -v adduser >/dev/null || need_apt+=(adduser)
command -v curl >/dev/null || need_apt+=(curl)
command -v setpriv >/dev/null || need_apt+=(util-linux)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! cargo deb --version >/dev/null 2>&1; then
  echo "installing cargo-deb"
  cargo install cargo-deb --locked
fi
check "cargo-deb available ($(cargo deb --version 2>/dev/null))" cargo deb --version
if ! remove_leftovers; then
  not_ok "a clean machine (no installation this script did not make)"
  finish
fi

# --- 1. build ------------------------------------------------------------------------------------
step "cargo deb"
deb=$(cargo deb | tail -1)
if [ -f "$deb" ] && [[ $(basename "$deb") =~ ^nanbyo-accounts_[0-9][^_]*_amd64\.deb$ ]]; then
  ok "cargo deb builds $deb"
else
  not_ok "cargo deb builds target/debian/nanbyo-accounts_<version>_amd64.deb (got: '$deb')"
  finish
fi
version=$(dpkg-deb -f "$deb" Version)

# --- 2. install ----------------------------------------------------------------------------------
step "dpkg -i"
if dpkg -i "$deb" >"$work/install.log" 2>&1; then
  ok "dpkg -i $(basename "$deb")"
  touch "$DATA/$MARK"
else
  cat "$work/install.log"
  not_ok "dpkg -i $(basename "$deb")"
  finish
fi
sed 's/^/  | /' "$work/install.log"
check "installed, version $version" installed

check "binary /usr/bin/nanbyo-accounts 0755 root:root" mode_is "$BIN" "755 root root"
check "binary runs (--version)" "$BIN" --version
for unit in nanbyo-accounts.service nanbyo-import.path nanbyo-import.service nanbyo-backup.service nanbyo-backup.timer nanbyo-remind.service nanbyo-remind.timer; do
  check "unit $UNITS/$unit 0644" mode_is "$UNITS/$unit" "644 root root"
done
for script in nanbyo-import-inbox nanbyo-backup; do
  check "helper /usr/lib/nanbyo-accounts/$script 0755" mode_is "/usr/lib/nanbyo-accounts/$script" "755 root root"
done
for doc in README.md import/README.md import/template.csv copyright; do
  check "doc /usr/share/doc/nanbyo-accounts/$doc" test -s "/usr/share/doc/nanbyo-accounts/$doc"
done
conffiles=$(dpkg-query --control-show nanbyo-accounts conffiles 2>/dev/null || cat /var/lib/dpkg/info/nanbyo-accounts.conffiles)
for conf in Rocket.toml import.env backup.env; do
  check "$ETC/$conf is a conffile" grep -qx "$ETC/$conf" <<<"$conffiles"
done
check "packaged Rocket.toml: address 127.0.0.1, port 8000" \
  grep -Eq '^address = "127\.0\.0\.1"$' "$ETC/Rocket.toml"
check "packaged Rocket.toml: port 8000" grep -Eq '^port = 8000$' "$ETC/Rocket.toml"
check "packaged Rocket.toml: login_url commented out" \
  bash -c "grep -q '^# login_url = ' '$ETC/Rocket.toml' && ! grep -q '^login_url' '$ETC/Rocket.toml'"

check "system user nanbyo (uid < 1000, no login shell)" \
  bash -c '[ "$(getent passwd nanbyo | cut -d: -f3)" -lt 1000 ] && getent passwd nanbyo | grep -q ":/usr/sbin/nologin$"'
check "group nanbyo-import" bash -c "getent group nanbyo-import >/dev/null"
check "$DATA 0700 nanbyo:nanbyo" mode_is "$DATA" "700 nanbyo nanbyo"
check "$DATA/backups 0700 nanbyo:nanbyo" mode_is "$DATA/backups" "700 nanbyo nanbyo"
check "$IMPORT/inbox 2770 nanbyo:nanbyo-import" mode_is "$IMPORT/inbox" "2770 nanbyo nanbyo-import"
for d in "done" failed; do
  check "$IMPORT/$d 2750 nanbyo:nanbyo-import (beside the inbox)" mode_is "$IMPORT/$d" "2750 nanbyo nanbyo-import"
done
for wanted in multi-user.target.wants/nanbyo-accounts.service multi-user.target.wants/nanbyo-import.path \
  timers.target.wants/nanbyo-backup.timer timers.target.wants/nanbyo-remind.timer; do
  check "enabled by postinst: /etc/systemd/system/$wanted" test -L "/etc/systemd/system/$wanted"
done

# --- 3. the console and the server as the units run them ----------------------------------------
step "migrate"
check "runuser -u nanbyo … nanbyo-accounts migrate" \
  runuser -u nanbyo -- env NANBYO_DATA_DIR=$DATA ROCKET_CONFIG=$ETC/Rocket.toml $BIN migrate
check "the database is in the data folder" bash -c "compgen -G '$DATA/*.db' >/dev/null"

step "ExecStartPre and ExecStart of nanbyo-accounts.service"
pre=$(unit_command nanbyo-accounts.service ExecStartPre)
if [ -n "$pre" ]; then
  # shellcheck disable=SC2086 # the unit's command line
  check "ExecStartPre: $pre" as_unit nanbyo-accounts.service -- $pre
  check "ExecStartPre wrote backups/before-start-*.db" bash -c "compgen -G '$DATA/backups/before-start-*.db' >/dev/null"
fi
start=$(unit_command nanbyo-accounts.service ExecStart)
check "ExecStart is /usr/bin/nanbyo-accounts serve" test "$start" = "$BIN serve"
port=$(free_port)
# shellcheck disable=SC2086
as_unit_exec nanbyo-accounts.service ROCKET_PORT="$port" -- $start >"$work/serve.log" 2>&1 &
server_pid=$!
health=
for _ in $(seq 120); do
  health=$(curl -fsS "http://127.0.0.1:$port/health" 2>/dev/null) && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.25
done
if [ -n "$health" ]; then
  ok "GET http://127.0.0.1:$port/health: $health"
else
  sed 's/^/  | /' "$work/serve.log"
  not_ok "GET http://127.0.0.1:$port/health"
fi
check "the server runs as nanbyo" test "$(stat -c %U "/proc/$server_pid" 2>/dev/null)" = nanbyo
check "everything in the data folder belongs to nanbyo" nothing_found "$DATA" ! -user nanbyo ! -name "$MARK"
check "keys/ generated, files 0600" bash -c "[ -d '$DATA/keys' ] && [ -z \"\$(find '$DATA/keys' -type f ! -perm 600)\" ]"
kill -TERM "$server_pid" 2>/dev/null
stopped=no
for _ in $(seq 40); do
  kill -0 "$server_pid" 2>/dev/null || { stopped=yes; break; }
  sleep 0.25
done
wait "$server_pid" 2>/dev/null
server_pid=
check "the server stops on SIGTERM" test $stopped = yes
sed 's/^/  | /' "$work/serve.log"

step "first account (README: サーバへのインストール)"
# Exactly the README's commands, from a root-only working directory as an administrator's would be.
readme_nanbyo='nanbyo() { runuser -u nanbyo -- env NANBYO_DATA_DIR=/var/lib/nanbyo-accounts ROCKET_CONFIG=/etc/nanbyo-accounts/Rocket.toml ROCKET_PROFILE=release /usr/bin/nanbyo-accounts "$@"; }'
check "README.md gives these commands" bash -c 'grep -qxF "$1" README.md && grep -qxF "nanbyo municipality add --code 131041 --name 新宿区" README.md' _ "$readme_nanbyo"
eval "$readme_nanbyo"
mkdir -m 0700 "$work/root-cwd"
(
  cd "$work/root-cwd" &&
    nanbyo municipality add --code 131041 --name 新宿区 &&
    nanbyo institution add --code 1311234567 --name 東京中央病院 --municipality 131041 &&
    nanbyo bootstrap --institution 1311234567 --db nanbyo \
      --family 髙橋 --given 美咲 --family-kana タカハシ --given-kana ミサキ --department 医事課
) >"$work/bootstrap.log" 2>&1
login_id=$(sed -n 's/^ログインID: *//p' "$work/bootstrap.log" | head -1)
if [ -n "$login_id" ]; then ok "municipality add, institution add, bootstrap: ログインID $login_id"; else
  sed 's/^/  | /' "$work/bootstrap.log"
  not_ok "municipality add, institution add, bootstrap"
fi
check "audit verify" nanbyo audit verify

# --- 4. the import inbox -------------------------------------------------------------------------
step "nanbyo-import.service (the inbox)"
import_cmd=$(unit_command nanbyo-import.service ExecStart)
header=$(sed '1s/^\xEF\xBB\xBF//' import/template.csv | head -1 | tr -d '\r')
drop() { # NAME MODE CONTENT: as staff would, under another name first, then renamed into the inbox
  printf '%s\r\n' "$header" "$3" >"$IMPORT/inbox/.$1.part"
  chmod "$2" "$IMPORT/inbox/.$1.part"
  mv "$IMPORT/inbox/.$1.part" "$IMPORT/inbox/$1"
}
inbox_empty() { ! compgen -G "$IMPORT/inbox/*.csv" >/dev/null && ! compgen -G "$IMPORT/inbox/*.CSV" >/dev/null; }
row=医療クラーク等,,医事課,山田,花子,ヤマダ,ハナコ,,,,,
drop a.csv 0640 "$row"
# shellcheck disable=SC2086
check "import without NANBYO_IMPORT_AS: the service succeeds" as_unit nanbyo-import.service -- $import_cmd
check "… and the inbox no longer matches the watched glob (no loop)" inbox_empty
check "… the file is in failed/ with a result naming NANBYO_IMPORT_AS" \
  bash -c "compgen -G '$IMPORT/failed/*-a.csv' >/dev/null && grep -q NANBYO_IMPORT_AS $IMPORT/failed/*-a.csv.result.txt"
echo "NANBYO_IMPORT_AS=$login_id" >>"$ETC/import.env"
drop b.csv 0640 "$row"
drop c.CSV 0600 "$row" # readable by its owner (root) only
# shellcheck disable=SC2086
check "import as $login_id: the service succeeds" as_unit nanbyo-import.service -- $import_cmd
check "… and the inbox no longer matches the watched glob (no loop)" inbox_empty
check "… a group-readable file is imported into done/ with its result" \
  bash -c "compgen -G '$IMPORT/done/*-b.csv' >/dev/null && test -s $IMPORT/done/*-b.csv.result.txt"
check "… an unreadable file goes to failed/ with the reason" \
  bash -c "grep -q nanbyo-import $IMPORT/failed/*-c.CSV.result.txt"
check "… results are readable by the group nanbyo-import" \
  bash -c "[ -z \"\$(find $IMPORT/done $IMPORT/failed -name '*.result.txt' ! -perm 640)\" ]"
sed 's/^/  | /' "$IMPORT"/done/*-b.csv.result.txt

# --- 5. backups ----------------------------------------------------------------------------------
step "nanbyo-backup.service"
backup_cmd=$(unit_command nanbyo-backup.service ExecStart)
sed -i 's/^NANBYO_BACKUP_KEEP=.*/NANBYO_BACKUP_KEEP=2/' "$ETC/backup.env"
for i in 1 2 3; do
  # shellcheck disable=SC2086
  check "backup $i (NANBYO_BACKUP_KEEP=2)" as_unit nanbyo-backup.service -- $backup_cmd
done
check "the newest 2 backups are kept" test "$(find "$DATA/backups" -name 'nanbyo-*.db' | wc -l)" -eq 2
check "backups are 0600 nanbyo" nothing_found "$DATA/backups" -name '*.db' \( ! -perm 600 -o ! -user nanbyo \)
newest=$(find "$DATA/backups" -name 'nanbyo-*.db' | LC_ALL=C sort | tail -1)
check "restore (README): nanbyo restore --from $(basename "$newest")" nanbyo restore --from "$newest"
check "… the restored database verifies (audit verify)" nanbyo audit verify

# --- 5b. reminders ----------------------------------------------------------------------------
step "nanbyo-remind.service"
remind_cmd=$(unit_command nanbyo-remind.service ExecStart)
# shellcheck disable=SC2086
check "remind as the unit runs it" as_unit nanbyo-remind.service -- $remind_cmd
# shellcheck disable=SC2086
check "… and again the same day (sends nothing twice)" as_unit nanbyo-remind.service -- $remind_cmd

# --- 6. the units, statically ---------------------------------------------------------------------
step "systemd-analyze (no systemd as PID 1 here: static checks)"
for unit in nanbyo-accounts.service nanbyo-import.path nanbyo-import.service nanbyo-backup.service nanbyo-backup.timer nanbyo-remind.service nanbyo-remind.timer; do
  if out=$(systemd-analyze verify "$UNITS/$unit" 2>&1) && ! grep -q nanbyo <<<"$out"; then
    ok "systemd-analyze verify $unit"
  else
    sed 's/^/  | /' <<<"$out"
    not_ok "systemd-analyze verify $unit"
  fi
done
for unit in nanbyo-accounts.service nanbyo-import.service nanbyo-backup.service nanbyo-remind.service; do
  score=$(systemd-analyze security --offline=true "$UNITS/$unit" 2>&1 |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  if [ -n "$score" ] && awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s < m) }'; then
    ok "systemd-analyze security $unit: exposure $score (< $MAX_EXPOSURE)"
  else
    systemd-analyze security --offline=true "$UNITS/$unit" 2>&1 | grep -E '✗|exposure' | sed 's/^/  | /'
    not_ok "systemd-analyze security $unit: exposure ${score:-?} (must be < $MAX_EXPOSURE)"
  fi
done

# --- 7. upgrade (the same package again) ---------------------------------------------------------
step "upgrade: dpkg -i again"
check "dpkg -i over the installed package" bash -c "dpkg -i '$deb' >'$work/upgrade.log' 2>&1 || { cat '$work/upgrade.log'; false; }"
check "preinst took a backup with the old binary: backups/before-upgrade-*.db" \
  bash -c "compgen -G '$DATA/backups/before-upgrade-*.db' >/dev/null"
check "changed conffiles kept (import.env, backup.env)" \
  bash -c "grep -q '^NANBYO_IMPORT_AS=$login_id' $ETC/import.env && grep -q '^NANBYO_BACKUP_KEEP=2' $ETC/backup.env"

# --- 8. purge ------------------------------------------------------------------------------------
step "dpkg --purge"
check "dpkg --purge nanbyo-accounts" bash -c "dpkg --purge nanbyo-accounts >'$work/purge.log' 2>&1 || { cat '$work/purge.log'; false; }"
sed 's/^/  | /' "$work/purge.log"
check "purge says (in Japanese) that the data folder was kept and how to remove it" \
  bash -c "grep -q 'データは削除していません' '$work/purge.log' && grep -q 'rm -rf /var/lib/nanbyo-accounts' '$work/purge.log'"
check "the data folder stays, with its database" bash -c "compgen -G '$DATA/*.db' >/dev/null"
check "keys/ and backups/ stay" bash -c "[ -d '$DATA/keys' ] && compgen -G '$DATA/backups/*.db' >/dev/null"
check "$ETC is gone" test ! -e "$ETC"
check "the user nanbyo and the groups nanbyo, nanbyo-import are gone" \
  bash -c '! getent passwd nanbyo && ! getent group nanbyo && ! getent group nanbyo-import' >/dev/null
check "binary and units are gone" bash -c "[ ! -e '$BIN' ] && ! compgen -G '$UNITS/nanbyo-*' >/dev/null"
check "no enablement symlinks left" nothing_found /etc/systemd/system -name 'nanbyo-*'
echo "  what stays:"
ls -la "$DATA" "$IMPORT" | sed 's/^/  | /'

# --- 9. reinstall over the kept data -------------------------------------------------------------
step "reinstall over the kept data folder"
check "dpkg -i after purge" bash -c "dpkg -i '$deb' >'$work/reinstall.log' 2>&1 || { cat '$work/reinstall.log'; false; }"
check "the kept folders are adopted by the new user and groups (no unknown owner left)" \
  nothing_found "$DATA" "$IMPORT" \( -nouser -o -nogroup \)
check "… $DATA 0700 nanbyo:nanbyo, $IMPORT/inbox 2770 nanbyo:nanbyo-import" \
  bash -c "[ \"\$(stat -c '%a %U %G' $DATA) \$(stat -c '%a %U %G' $IMPORT/inbox)\" = '700 nanbyo nanbyo 2770 nanbyo nanbyo-import' ]"
check "the kept database is used again (audit verify)" nanbyo audit verify
check "dpkg --purge again" bash -c "dpkg --purge nanbyo-accounts >/dev/null 2>&1"

# --- 10. clean up ---------------------------------------------------------------------------------
step "clean up"
rm -rf "$DATA" "$IMPORT"
check "nothing left" bash -c "! dpkg-query -W nanbyo-accounts >/dev/null 2>&1 && [ ! -e '$DATA' ] && [ ! -e '$IMPORT' ] && [ ! -e '$ETC' ] && ! getent passwd nanbyo >/dev/null"
finish
