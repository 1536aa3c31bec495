#!/usr/bin/env bash
# Local stand-ins for the AWS services the desk uses, for tests: moto's
# server (DynamoDB) and an aiosmtpd SMTP server that keeps every message it
# receives in a Maildir. Both listen on 127.0.0.1 only, on free ports.
#
#   scripts/aws-servers.sh start DIR   start both; write DIR/env; exit 0
#                                      leaving them running
#   scripts/aws-servers.sh stop DIR    stop them (TERM, then KILL after
#                                      5 s); safe to call twice
#
# DIR/env, for `source DIR/env` (or read line by line):
#   export DESK_TEST_MOTO_URL=http://127.0.0.1:PORT
#   export DESK_TEST_SMTP_URL=smtp://127.0.0.1:PORT
#   export DESK_TEST_MAILDIR=DIR/maildir
# Messages land in DIR/maildir/new/, one file each, with the envelope added
# as X-MailFrom, X-RcptTo and X-Peer headers. DIR/pids has the servers'
# process ids, one a line; DIR/moto.log and DIR/smtp.log their output.
#
# Needs the virtualenv scripts/aws-deps.sh makes (.venv at the repo root).
set -euo pipefail

die() { echo "aws-servers: error: $*" >&2; exit 1; }
say() { echo "aws-servers: $*"; }
usage() { echo "usage: $0 start DIR | stop DIR" >&2; exit 2; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$here/.venv"
py="$venv/bin/python"
# Seconds a server has to start.
START_TIMEOUT=20
# Seconds between TERM and KILL.
STOP_GRACE=5

[ $# -eq 2 ] || usage
command="$1"
[ -n "$2" ] || usage
mkdir -p -- "$2" || die "cannot create $2"
dir="$(cd -- "$2" && pwd)"

# True while process $1 runs (a zombie has stopped running).
alive() {
  local state
  [ -r "/proc/$1/stat" ] || { kill -0 "$1" 2>/dev/null; return; }
  state="$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# True when process $1 is one of ours (a server this script starts), so a
# process id reused since start is never signalled.
ours() {
  local cmdline
  [ -r "/proc/$1/cmdline" ] || return 0 # no /proc: trust the pid file
  cmdline="$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
  case "$cmdline" in
    *moto_server*|*aiosmtpd*) return 0 ;;
    *) return 1 ;;
  esac
}

stop_servers() {
  local pids=() pid waited
  if [ ! -f "$dir/pids" ]; then
    say "nothing to stop in $dir"
    return 0
  fi
  while read -r pid; do
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    if alive "$pid" && ours "$pid"; then
      pids+=("$pid")
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done <"$dir/pids"
  waited=0
  while [ "$waited" -lt $((STOP_GRACE * 10)) ]; do
    local running=()
    for pid in ${pids[@]+"${pids[@]}"}; do
      alive "$pid" && running+=("$pid")
    done
    [ ${#running[@]} -eq 0 ] && break
    sleep 0.1
    waited=$((waited + 1))
  done
  for pid in ${pids[@]+"${pids[@]}"}; do
    if alive "$pid"; then
      say "process $pid ignored TERM for ${STOP_GRACE}s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -f -- "$dir/pids" "$dir/env"
  say "stopped ${#pids[@]} server(s) in $dir"
}

# Prints the log of a server that failed, stops whatever started, and exits.
fail_start() {
  local name="$1" log="$2"
  shift 2
  echo "aws-servers: error: $name did not start: $*" >&2
  if [ -f "$log" ]; then
    echo "---- $log ----" >&2
    tail -n 50 "$log" >&2 || true
    echo "---- end of $log ----" >&2
  fi
  stop_servers >&2 || true
  exit 1
}

# Starts "$@" detached (its own session, no terminal, output to $log) and
# prints its process id.
launch() {
  local log="$1"
  shift
  PYTHONUNBUFFERED=1 nohup setsid "$@" </dev/null >"$log" 2>&1 &
  echo $!
}

free_port() {
  "$py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

start_moto() {
  local log="$dir/moto.log" pid port="" deadline
  pid="$(launch "$log" "$venv/bin/python" "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/moto_server_serial.py" 127.0.0.1 0)"
  echo "$pid" >>"$dir/pids"
  deadline=$((SECONDS + START_TIMEOUT))
  # moto prints " * Running on http://127.0.0.1:PORT" once it listens.
  while [ -z "$port" ]; do
    alive "$pid" || fail_start "moto_server" "$log" "it exited"
    [ "$SECONDS" -lt "$deadline" ] || fail_start "moto_server" "$log" "no 'Running on' line within ${START_TIMEOUT}s"
    port="$(sed -nE 's#.*Running on http://127\.0\.0\.1:([0-9]+).*#\1#p' "$log" | head -n 1)"
    [ -n "$port" ] || sleep 0.1
  done
  until "$py" -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/moto-api/data.json", timeout=2).read()' "http://127.0.0.1:$port" >/dev/null 2>&1; do
    alive "$pid" || fail_start "moto_server" "$log" "it exited"
    [ "$SECONDS" -lt "$deadline" ] || fail_start "moto_server" "$log" "http://127.0.0.1:$port did not answer within ${START_TIMEOUT}s"
    sleep 0.2
  done
  MOTO_URL="http://127.0.0.1:$port"
}

start_smtp() {
  local log="$dir/smtp.log" pid port deadline try
  # A Maildir is three folders; aiosmtpd makes them only when the Maildir
  # does not exist at all, so make all of them here.
  mkdir -p -- "$dir/maildir/tmp" "$dir/maildir/new" "$dir/maildir/cur"
  # A free port can be taken by someone else before aiosmtpd binds it:
  # then aiosmtpd exits, and another port is tried.
  for try in 1 2 3; do
    port="$(free_port)" || die "cannot find a free port with $py"
    # -n: do not setuid to nobody (which could not write the Maildir);
    # -u: accept SMTPUTF8, as a real relay does.
    pid="$(launch "$log" "$py" -m aiosmtpd -n -u -l "127.0.0.1:$port" \
      -c aiosmtpd.handlers.Mailbox "$dir/maildir")"
    echo "$pid" >>"$dir/pids"
    deadline=$((SECONDS + START_TIMEOUT))
    # Ready when the port greets with 220 and the server is still ours.
    until "$py" -c 'import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=2)
s.noop()
s.quit()' "$port" >/dev/null 2>&1 && alive "$pid"; do
      alive "$pid" || break
      [ "$SECONDS" -lt "$deadline" ] || fail_start "aiosmtpd" "$log" "127.0.0.1:$port accepted no SMTP connection within ${START_TIMEOUT}s"
      sleep 0.1
    done
    if alive "$pid"; then
      SMTP_URL="smtp://127.0.0.1:$port"
      return 0
    fi
    [ "$try" -lt 3 ] && say "aiosmtpd exited on port $port; trying another port"
  done
  fail_start "aiosmtpd" "$log" "it exited (3 tries)"
}

# A value for DIR/env: as it is when it needs no quoting, else shell-quoted.
env_value() {
  if [[ "$1" =~ ^[A-Za-z0-9_./:@%+=,-]+$ ]]; then
    printf '%s' "$1"
  else
    printf '%q' "$1"
  fi
}

start_servers() {
  if ! { [ -x "$venv/bin/moto_server" ] && [ -x "$py" ] && "$py" -c 'import aiosmtpd.handlers' >/dev/null 2>&1; }; then
    die "$venv lacks moto_server or aiosmtpd; run scripts/aws-deps.sh first"
  fi
  if [ -f "$dir/pids" ]; then
    local pid
    while read -r pid; do
      if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" && ours "$pid"; then
        die "servers are already running for $dir (process $pid); run: $0 stop $dir"
      fi
    done <"$dir/pids"
    rm -f -- "$dir/pids"
  fi
  rm -f -- "$dir/env"
  : >"$dir/pids"
  start_moto
  start_smtp
  {
    echo "export DESK_TEST_MOTO_URL=$(env_value "$MOTO_URL")"
    echo "export DESK_TEST_SMTP_URL=$(env_value "$SMTP_URL")"
    echo "export DESK_TEST_MAILDIR=$(env_value "$dir/maildir")"
  } >"$dir/env.tmp"
  mv -f -- "$dir/env.tmp" "$dir/env"
  say "moto at $MOTO_URL, SMTP at $SMTP_URL, mail in $dir/maildir; settings in $dir/env"
}

case "$command" in
  start) start_servers ;;
  stop) stop_servers ;;
  *) usage ;;
esac
