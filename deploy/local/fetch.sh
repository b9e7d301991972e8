#!/usr/bin/env bash
# Fetch the pinned Kafka and Elasticsearch from Maven Central into the cache (idempotent).
# usage: fetch.sh [kafka|es|all]
# Prints the install directory of each fetched server on stdout (one per line).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kafka_home() { printf '%s\n' "$AVC_CACHE_DIR/kafka_${KAFKA_SCALA_VERSION}-${KAFKA_VERSION}"; }

# es_home: where the unzipped distribution lives. As root the ES user must be able to read it; when the
# cache sits under a private home (/root is 0700) it goes to /var/cache/avcstream instead.
es_home() {
  local base="$AVC_CACHE_DIR"
  if [[ -n "${AVCSTREAM_ES_HOME_DIR:-}" ]]; then
    printf '%s\n' "$AVCSTREAM_ES_HOME_DIR"
    return
  fi
  if [[ "$(id -u)" == 0 ]] && ! dir_world_traversable "$base"; then
    base=/var/cache/avcstream
  fi
  printf '%s\n' "$base/elasticsearch-${ES_VERSION}"
}

# dir_world_traversable DIR: every existing ancestor of DIR is o+x.
dir_world_traversable() {
  local d
  d="$(readlink -m "$1")"
  while [[ "$d" != / ]]; do
    if [[ -e "$d" ]]; then
      [[ "$(($(stat -c '%a' "$d" | sed -E 's/.*(.)$/\1/') & 1))" == 1 ]] || return 1
    fi
    d="$(dirname "$d")"
  done
}

do_fetch_kafka() {
  local home t0 tmp
  home="$(kafka_home)"
  if [[ -f "$home/.complete" ]]; then
    printf '%s\n' "$home"
    return 0
  fi
  check_java
  t0="$(now_ms)"
  log "fetching Kafka ${KAFKA_VERSION} (org.apache.kafka:kafka_${KAFKA_SCALA_VERSION}) with Maven"
  mkdir -p "$AVC_CACHE_DIR"
  tmp="$(mktemp -d "$AVC_CACHE_DIR/.kafka.XXXXXX")"
  mvn_cmd -f "$AVC_LOCAL_DIR/pom.xml" \
    -Dkafka.version="$KAFKA_VERSION" -Dkafka.scala.version="$KAFKA_SCALA_VERSION" \
    -Dslf4j.version="$SLF4J_VERSION" -Dreload4j.version="$RELOAD4J_VERSION" \
    -Ddependency.plugin.version="$MAVEN_DEPENDENCY_PLUGIN_VERSION" \
    "org.apache.maven.plugins:maven-dependency-plugin:${MAVEN_DEPENDENCY_PLUGIN_VERSION}:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory="$tmp/libs" ||
    die "Maven could not fetch org.apache.kafka:kafka_${KAFKA_SCALA_VERSION}:${KAFKA_VERSION}"
  ls "$tmp/libs/kafka_${KAFKA_SCALA_VERSION}-${KAFKA_VERSION}.jar" >/dev/null ||
    die "kafka_${KAFKA_SCALA_VERSION}-${KAFKA_VERSION}.jar missing after fetch"
  touch "$tmp/.complete"
  rm -rf "$home"
  mv "$tmp" "$home"
  log "fetched Kafka ${KAFKA_VERSION} in $(($(now_ms) - t0)) ms ($(find "$home/libs" -name '*.jar' | wc -l) jars)"
  printf '%s\n' "$home"
}

do_fetch_es() {
  local home t0 dl zip tmp coords
  home="$(es_home)"
  if [[ -f "$home/.complete" ]]; then
    printf '%s\n' "$home"
    return 0
  fi
  check_java
  t0="$(now_ms)"
  coords="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
  log "fetching Elasticsearch ${ES_VERSION} ($coords) with Maven"
  dl="$AVC_CACHE_DIR/downloads"
  mkdir -p "$dl"
  zip="$dl/elasticsearch-${ES_VERSION}.zip"
  if [[ ! -s "$zip" ]]; then
    mvn_cmd -f "$AVC_LOCAL_DIR/pom.xml" \
      "org.apache.maven.plugins:maven-dependency-plugin:${MAVEN_DEPENDENCY_PLUGIN_VERSION}:copy" \
      -Dartifact="$coords" -DoutputDirectory="$dl" -Dmdep.stripVersion=false ||
      die "Maven could not fetch $coords (is that version on Maven Central?)"
  fi
  [[ -s "$zip" ]] || die "expected $zip after fetching $coords"
  mkdir -p "$(dirname "$home")"
  tmp="$(mktemp -d "$(dirname "$home")/.es.XXXXXX")"
  unzip -q "$zip" -d "$tmp" || die "cannot unzip $zip"
  # The zip holds one top-level directory elasticsearch-<version>/.
  [[ -x "$tmp/elasticsearch-${ES_VERSION}/bin/elasticsearch" ]] || die "unexpected layout in $zip"
  chmod -R a+rX "$tmp"
  touch "$tmp/elasticsearch-${ES_VERSION}/.complete"
  rm -rf "$home"
  mv "$tmp/elasticsearch-${ES_VERSION}" "$home"
  rmdir "$tmp"
  log "fetched Elasticsearch ${ES_VERSION} in $(($(now_ms) - t0)) ms"
  printf '%s\n' "$home"
}

# Fetch locks live in the cache, which several run dirs (checkouts) share.
fetch_kafka() { with_lock_in "$AVC_CACHE_DIR" fetch-kafka do_fetch_kafka; }
fetch_es() { with_lock_in "$AVC_CACHE_DIR" fetch-es do_fetch_es; }

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  case "${1:-all}" in
  kafka) fetch_kafka ;;
  es) fetch_es ;;
  all)
    fetch_kafka
    fetch_es
    ;;
  *) die "usage: $0 [kafka|es|all]" ;;
  esac
fi
