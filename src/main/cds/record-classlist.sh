#!/usr/bin/env bash
# Records src/main/cds/flowgate.classlist: the classes one start of flowgate loads (embedded backends on a fresh data
# dir, so the unpacking and initdb path is in it too) until ready, plus one demo trigger. The build dumps them into
# the class-data archive target/flowgate.jsa (pom.xml, execution cds-archive) that conf/jvm.options names.
#
#   src/main/cds/record-classlist.sh        (from anywhere; builds target/flowgate.jar first when it is missing)
#
# Rerun it after changes that load many new classes at start (a new library, a new start step) and commit the list.
# A stale list is safe: classes missing from it load from the jar as usual, listed classes that no longer exist are
# skipped when the archive is dumped; only the start gets slower.
set -euo pipefail
cd "$(dirname "$0")/../../.."
LIST=src/main/cds/flowgate.classlist
[[ -f target/flowgate.jar ]] || ./mvnw -B -q -DskipTests package
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-classlist.XXXXXX")
PID=""
cleanup() {
  [[ -z "$PID" ]] || kill "$PID" 2>/dev/null || true
  [[ -z "$PID" ]] || wait "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
# The JVM settings flowgate ships with, but without the archive itself: every class must be loaded from the jar to be
# listed.
mapfile -t OPTS < <(grep -v '^[[:space:]]*#' conf/jvm.options | grep -v '^[[:space:]]*$' | grep -v SharedArchiveFile)
# One start with each log format (JSON is the default; the benchmarks log text): a fresh data dir, then a restart.
record() { # json(true|false) list-file
  env -u FLOWGATE_PG_URL -u FLOWGATE_REDIS_URL FLOWGATE_HTTP_PORT=0 FLOWGATE_HTTP_HOST=127.0.0.1 \
    FLOWGATE_DATA_DIR="$WORK/data" FLOWGATE_LOGGING_JSON="$1" \
    java "${OPTS[@]}" -Xshare:off -XX:DumpLoadedClassList="$2" -jar target/flowgate.jar >"$WORK/log" 2>&1 &
  PID=$!
  local url="" i
  for ((i = 0; i < 1200; i++)); do
    url=$(grep -o 'flowgate ready at http://[^ /]*/' "$WORK/log" | sed 's/.* //') || true
    [[ -n "$url" ]] && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/log" >&2; echo "flowgate exited before it was ready" >&2; exit 1; }
    sleep 0.1
  done
  [[ -n "$url" ]] || { cat "$WORK/log" >&2; echo "flowgate not ready after 120 s" >&2; exit 1; }
  # The demo deployment of conf/declarations/demo.yaml with its published key: the trigger path's classes too.
  curl -sf -o /dev/null -X POST "${url}node/deployment-trigger/af86a8a6-40f2-4b92-9f83-c9b3bafb2ccb/" \
    -H "X-API-Key: sk-fGNTDKVjAOQ-Sag6rkygnZxhpnWerjKEpbS0jg" -H "Content-Type: application/json" \
    -d '{"input_data": {"name": "Ada"}}'
  curl -sf -o /dev/null "${url}health/ready"
  kill "$PID"
  wait "$PID" || true
  PID=""
}
record true "$WORK/json.classlist"
record false "$WORK/text.classlist"
{
  echo "# The classes a start of flowgate loads, for the class-data archive target/flowgate.jsa: written by"
  echo "# src/main/cds/record-classlist.sh (-XX:DumpLoadedClassList), read by the build (pom.xml, cds-archive)."
  cat "$WORK/json.classlist" "$WORK/text.classlist" | grep -v '^#' | awk '!seen[$0]++'
} >"$LIST"
echo "wrote $LIST: $(grep -vc '^[#@]' "$LIST") classes, $(grep -c '^@lambda-proxy' "$LIST") lambda call sites"
