# shellcheck shell=bash
# Shared helpers for deploy/local/*.sh. Sourced, never executed.
# Everything configurable comes from env (see README.md); versions come from versions.env only.

set -euo pipefail

# useradd/runuser live in sbin, which a filtered PATH (turbo, CI) may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

AVC_LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$AVC_LOCAL_DIR/versions.env"

AVC_CACHE_DIR="${AVCSTREAM_CACHE_DIR:-${HOME:-/root}/.cache/avcstream}"
AVC_RUN_DIR="${AVCSTREAM_RUN_DIR:-$AVC_LOCAL_DIR/.run}"
AVC_M2_REPO="$AVC_CACHE_DIR/m2"

KAFKA_HOST="${AVCSTREAM_KAFKA_HOST:-127.0.0.1}"
KAFKA_PORT="${AVCSTREAM_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${AVCSTREAM_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_HEAP="${AVCSTREAM_KAFKA_HEAP:-512m}"
ES_HOST="${AVCSTREAM_ES_HOST:-127.0.0.1}"
ES_PORT="${AVCSTREAM_ES_PORT:-19200}"
ES_TRANSPORT_PORT="${AVCSTREAM_ES_TRANSPORT_PORT:-$((ES_PORT + 100))}"
ES_HEAP="${AVCSTREAM_ES_HEAP:-512m}"
ES_USER="${AVCSTREAM_ES_USER:-avcstream-es}"
START_TIMEOUT_S="${AVCSTREAM_START_TIMEOUT_S:-180}"
STOP_TIMEOUT_S="${AVCSTREAM_STOP_TIMEOUT_S:-60}"

log() { printf '[deploy/local] %s\n' "$*" >&2; }
die() {
  printf '[deploy/local] error: %s\n' "$*" >&2
  exit 1
}

now_ms() { date +%s%3N; }

# java_bin: the java used to run the servers (JAVA_HOME wins, else PATH).
java_bin() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    printf '%s\n' "$JAVA_HOME/bin/java"
  else
    command -v java || die "java not found: install OpenJDK $JAVA_MAJOR (Debian: apt-get install -y openjdk-$JAVA_MAJOR-jre-headless)"
  fi
}

# java_home: directory holding bin/java, for ES_JAVA_HOME.
java_home() {
  local j
  j="$(readlink -f "$(java_bin)")"
  dirname "$(dirname "$j")"
}

# check_java: the servers are run and tested with Java $JAVA_MAJOR; refuse anything older, warn on newer.
check_java() {
  local out major
  out="$("$(java_bin)" -version 2>&1 | head -n 1)"
  major="$(printf '%s\n' "$out" | sed -E 's/.*version "([0-9]+)(\.[0-9]+)*.*".*/\1/')"
  [[ "$major" =~ ^[0-9]+$ ]] || die "cannot read the Java version from: $out"
  if ((major < JAVA_MAJOR)); then
    die "Java $JAVA_MAJOR is required, found Java $major ($out)"
  elif ((major != JAVA_MAJOR)); then
    log "warning: tested with Java $JAVA_MAJOR, found Java $major"
  fi
}

# mvn_cmd ARGS...: quiet Maven against the cache's local repository; its output is shown only on failure.
mvn_cmd() {
  local out rc=0
  command -v mvn >/dev/null || die "mvn not found: install Maven (Debian: apt-get install -y maven)"
  mkdir -p "$AVC_CACHE_DIR"
  out="$(mktemp "$AVC_CACHE_DIR/.mvn.XXXXXX.log")"
  mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$AVC_M2_REPO" "$@" >"$out" 2>&1 || rc=$?
  if ((rc != 0)); then
    tail -n 40 "$out" >&2
  fi
  rm -f "$out"
  return "$rc"
}

# with_lock_in DIR NAME CMD...: run CMD holding DIR/NAME.lock (flock on fd 9, which the servers must not
# inherit: they are started with 9>&-).
with_lock_in() {
  local dir="$1" name="$2"
  shift 2
  mkdir -p "$dir"
  (
    flock -w "$((START_TIMEOUT_S + STOP_TIMEOUT_S + 600))" 9 || die "timed out waiting for lock $name"
    "$@"
  ) 9>"$dir/$name.lock"
}

# with_lock NAME CMD...: serialise start/stop of one server instance (locks live in the run dir).
with_lock() { with_lock_in "$AVC_RUN_DIR" "$@"; }

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# pid_alive PIDFILE: true when the pid in PIDFILE is a live JVM (a stale file whose pid was reused by
# another program does not count).
pid_alive() {
  local pid
  [[ -s "$1" ]] || return 1
  pid="$(cat "$1")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ ! -r "/proc/$pid/cmdline" ]] || tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q java
}

# stop_pid PIDFILE WHAT: SIGTERM, wait up to STOP_TIMEOUT_S, then SIGKILL. Removes the pid file.
stop_pid() {
  local pidfile="$1" what="$2" pid i
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    log "$what is not running"
    return 0
  fi
  pid="$(cat "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT_S * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$what did not stop within ${STOP_TIMEOUT_S}s, killing pid $pid"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$pidfile"
  log "$what stopped"
}
