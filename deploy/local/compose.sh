#!/usr/bin/env bash
# Run Docker Compose v2 on this repo's docker-compose.yml: `compose.sh config -q` validates it.
# Uses `docker compose` when the v2 plugin is installed; otherwise fetches Debian's docker-compose package
# (version and SHA-256 pinned in versions.env) into the cache and runs its binary. `config` needs no engine.
# usage: compose.sh [compose args...]     e.g. compose.sh config -q; compose.sh --profile kibana config --services
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

COMPOSE_FILE_PATH="${AVCSTREAM_COMPOSE_FILE:-$(cd "$AVC_LOCAL_DIR/../.." && pwd)/docker-compose.yml}"

compose_bin() {
  if command -v docker >/dev/null 2>&1 && docker compose version 2>/dev/null | grep -qE 'version v?2\.'; then
    printf '%s\n' "docker compose"
    return
  fi
  local dir="$AVC_CACHE_DIR/docker-compose-${COMPOSE_DEB_VERSION}"
  local bin="$dir/usr/libexec/docker/cli-plugins/docker-compose"
  if [[ ! -x "$bin" || ! -f "$dir/.complete" ]]; then
    local deb url tmp
    command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb not found (Debian: apt-get install -y dpkg)"
    mkdir -p "$AVC_CACHE_DIR/downloads"
    deb="$AVC_CACHE_DIR/downloads/docker-compose_${COMPOSE_DEB_VERSION}_amd64.deb"
    url="${AVCSTREAM_DEBIAN_MIRROR:-http://deb.debian.org/debian}/pool/main/d/docker-compose/docker-compose_${COMPOSE_DEB_VERSION}_amd64.deb"
    if [[ ! -s "$deb" ]] || ! printf '%s  %s\n' "$COMPOSE_DEB_SHA256" "$deb" | sha256sum -c --status; then
      log "fetching Debian docker-compose ${COMPOSE_DEB_VERSION}"
      curl -fsSL --retry 3 -o "$deb.part" "$url" || die "could not download $url"
      mv "$deb.part" "$deb"
    fi
    printf '%s  %s\n' "$COMPOSE_DEB_SHA256" "$deb" | sha256sum -c --status ||
      die "checksum mismatch for $deb (expected $COMPOSE_DEB_SHA256)"
    tmp="$(mktemp -d "$AVC_CACHE_DIR/.compose.XXXXXX")"
    dpkg-deb -x "$deb" "$tmp"
    touch "$tmp/.complete"
    rm -rf "$dir"
    mv "$tmp" "$dir"
  fi
  printf '%s\n' "$bin"
}

# shellcheck disable=SC2046 # "docker compose" is two words on purpose
exec $(compose_bin) -f "$COMPOSE_FILE_PATH" "$@"
