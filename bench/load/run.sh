#!/usr/bin/env bash
# Load benchmark of flowgate's trivial sync flow (demo deployments, conf/declarations/demo.yaml) for deployment types
# server and api, against a bare Vert.x /hello endpoint (bench/load/Hello.java) measured in the same run, all on
# 127.0.0.1. See bench/README.md for what it measures and how to read it.
#
#   bench/load/run.sh [--duration S] [--repeat N] [--connections C] [--rate R] [--external] [options below]
#
# Appends a dated section to bench/RESULTS.md (or --results FILE). Every process it starts is stopped on exit.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/load/run.sh [--scenario sync|async|fast] [options]
  --scenario S       sync (default): this file's benchmark, options below;
                     async: bench/load/async.sh (durable async triggers, end-to-end completions, 1 and 2 nodes);
                     fast: bench/load/fast.sh (Fast Mode vs direct, nginx, HAProxy); see their --help
  --duration S       seconds per measured run (wrk and hey)                    [15]
  --warmup S         seconds of the warm-up wrk run per target                  [= --duration]
  --repeat N         measured wrk runs per target (median, min-max reported)    [3]
  --connections C    wrk connections (closed loop)                              [64]
  --threads T        wrk threads                                                [2]
  --rate R           total req/s of the fixed-rate latency run (hey)            [1000]
  --workers W        hey workers at --rate (each at R/W req/s; hey's workers tick in step, so W is the burst
                     size: 50 puts hello's own p99 at ~7 ms, 10 at ~1 ms)               [10]
  --external         use the PostgreSQL and Redis in FLOWGATE_PG_URL / FLOWGATE_REDIS_URL (a dedicated database;
                     a unique FLOWGATE_REDIS_KEY_PREFIX is set) instead of the embedded ones
  --jvm-flags "F"    JVM flags for flowgate and Hello alike
                     [-Xms256m -Xmx256m -XX:+UseSerialGC -Dvertx.disableContextTimings=true]
  --jfr DIR          after the measurements, one extra wrk run per flowgate target under a JFR recording;
                     writes DIR/flowgate-<target>.jfr and prints the hottest frames
  --results FILE     where to append the results section                        [<repo>/bench/RESULTS.md]
  --source-repo DIR  git checkout the tree was copied from, for the commit line  [<repo>]
  --note TEXT        one line added to the results section
  -h, --help         this text
EOF
}

die() {
  echo "run.sh: $*" >&2
  exit 2
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=bench/load/parse.sh
source "$ROOT/bench/load/parse.sh"
DURATION=15
WARMUP=""
REPEAT=3
CONNECTIONS=64
THREADS=2
RATE=1000
WORKERS=10
EXTERNAL=false
JVM_FLAGS="-Xms256m -Xmx256m -XX:+UseSerialGC -Dvertx.disableContextTimings=true"
JFR_DIR=""
RESULTS="$ROOT/bench/RESULTS.md"
SOURCE_REPO="$ROOT"
NOTE=""

# ---------------------------------------------------------------------------------------------------- processes ---
WORK=""
PIDS=()          # long-running processes we started (flowgate, Hello)
LOAD_PID=""      # the wrk/hey/curl running now
DATA_DIR=""


stop_pid() { # pid, grace seconds: TERM, wait, KILL
  local pid=$1 grace=$2 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "run.sh: pid $pid did not stop in ${grace}s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

stop_leftovers() { # embedded postgres/redis-server whose executable lives under our data dir (by pid, nothing else)
  [[ -n "$DATA_DIR" && -d "$DATA_DIR" ]] || return 0
  local f pid exe
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    exe=""
    { IFS= read -r -d '' exe <"$f"; } 2>/dev/null || true
    if [[ "$exe" == "$DATA_DIR"/* ]]; then
      echo "run.sh: stopping leftover $exe (pid $pid)" >&2
      stop_pid "$pid" 5
    fi
  done
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  [[ -n "$LOAD_PID" ]] && kill -TERM "$LOAD_PID" 2>/dev/null
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    stop_pid "${PIDS[$i]}" 30
  done
  stop_leftovers
  if [[ "$EXTERNAL" == true && -n "${FLOWGATE_REDIS_KEY_PREFIX:-}" ]] && command -v redis-cli >/dev/null; then
    redis-cli -u "$FLOWGATE_REDIS_URL" --scan --pattern "${FLOWGATE_REDIS_KEY_PREFIX}*" 2>/dev/null \
      | xargs -r -n 500 redis-cli -u "$FLOWGATE_REDIS_URL" DEL >/dev/null 2>&1
  fi
  if [[ -n "$WORK" && -d "$WORK" ]]; then
    if (( rc != 0 )); then
      echo "run.sh: failed (exit $rc); logs kept in $WORK" >&2
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs a load generator in the background and waits for it, so a signal stops the script at once (bash defers traps
# while a foreground child runs). Output to $1.
run_load() {
  local out=$1
  shift
  "$@" >"$out" 2>&1 &
  LOAD_PID=$!
  local rc=0
  wait "$LOAD_PID" || rc=$?
  LOAD_PID=""
  return "$rc"
}

# ------------------------------------------------------------------------------------------------------- options ---
# --scenario async|fast hands every other argument to bench/load/<scenario>.sh; sync (the default) is this file.
SCENARIO=sync
ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --scenario) [[ $# -ge 2 && -n "$2" ]] || die "option --scenario needs a value: sync, async or fast"
      SCENARIO=$2; shift 2 ;;
    --scenario=*) SCENARIO=${1#--scenario=}; shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
set -- ${ARGS[@]+"${ARGS[@]}"}
case "$SCENARIO" in
  sync) ;;
  async | fast) trap - EXIT; exec "$ROOT/bench/load/$SCENARIO.sh" "$@" ;;
  *) die "unknown scenario '$SCENARIO' (sync, async or fast)" ;;
esac
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) need_value "$@"; DURATION=$2; shift 2 ;;
    --warmup) need_value "$@"; WARMUP=$2; shift 2 ;;
    --repeat) need_value "$@"; REPEAT=$2; shift 2 ;;
    --connections) need_value "$@"; CONNECTIONS=$2; shift 2 ;;
    --threads) need_value "$@"; THREADS=$2; shift 2 ;;
    --rate) need_value "$@"; RATE=$2; shift 2 ;;
    --workers) need_value "$@"; WORKERS=$2; shift 2 ;;
    --external) EXTERNAL=true; shift ;;
    --jvm-flags) need_value "$@"; JVM_FLAGS=$2; shift 2 ;;
    --jfr) need_value "$@"; JFR_DIR=$2; shift 2 ;;
    --results) need_value "$@"; RESULTS=$2; shift 2 ;;
    --source-repo) need_value "$@"; SOURCE_REPO=$2; shift 2 ;;
    --note) need_value "$@"; NOTE=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done
WARMUP=${WARMUP:-$DURATION}
for v in DURATION WARMUP REPEAT CONNECTIONS THREADS RATE WORKERS; do
  is_uint "${!v}" || die "--$(tr '[:upper:]' '[:lower:]' <<<"$v") must be a positive integer, got '${!v}'"
done
(( CONNECTIONS >= THREADS )) || die "--connections ($CONNECTIONS) must be at least --threads ($THREADS)"
(( RATE >= WORKERS )) || WORKERS=$RATE
if [[ "$EXTERNAL" == true ]]; then
  [[ -n "${FLOWGATE_PG_URL:-}" && -n "${FLOWGATE_REDIS_URL:-}" ]] \
    || die "--external needs FLOWGATE_PG_URL and FLOWGATE_REDIS_URL (a dedicated database, e.g. createdb flowgate_bench)"
  export FLOWGATE_REDIS_KEY_PREFIX="flowgate-bench-$(date +%s)-$$:"
else
  unset FLOWGATE_PG_URL FLOWGATE_REDIS_URL FLOWGATE_REDIS_KEY_PREFIX
fi

# --------------------------------------------------------------------------------------------------------- tools ---
missing=()
for t in wrk hey; do command -v "$t" >/dev/null || missing+=("$t"); done
if (( ${#missing[@]} > 0 )); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "run.sh: installing ${missing[*]} with apt-get" >&2
    timeout 600 apt-get update -qq && timeout 600 apt-get install -y -qq "${missing[@]}" >/dev/null \
      || die "apt-get install ${missing[*]} failed"
  else
    die "missing ${missing[*]}: install them (Debian: sudo apt-get install -y wrk hey) or run as root"
  fi
fi
for t in java curl; do command -v "$t" >/dev/null || die "missing $t"; done
if [[ -n "$JFR_DIR" ]]; then
  command -v jcmd >/dev/null && command -v jfr >/dev/null || die "--jfr needs jcmd and jfr (a full JDK)"
  mkdir -p "$JFR_DIR"
  JFR_DIR=$(cd "$JFR_DIR" && pwd)
fi

cd "$ROOT"
JAR="$ROOT/target/flowgate.jar"
if [[ ! -f "$JAR" ]]; then
  echo "run.sh: $JAR missing; building it (./mvnw -q -DskipTests package)" >&2
  timeout 1200 ./mvnw -q -DskipTests package || die "the build failed"
fi
[[ -f "$ROOT/bench/load/Hello.java" ]] || die "missing $ROOT/bench/load/Hello.java"
mkdir -p "$(dirname "$RESULTS")"
RESULTS=$(cd "$(dirname "$RESULTS")" && pwd)/$(basename "$RESULTS")

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
# The commit of the tree under test, read at the start (others may commit while it runs).
commit="unknown"
dirty=""
if git -C "$SOURCE_REPO" rev-parse --short HEAD >/dev/null 2>&1; then
  commit=$(git -C "$SOURCE_REPO" rev-parse --short HEAD)
  if [[ -n "$(git --no-optional-locks -C "$SOURCE_REPO" status --porcelain -- src pom.xml 2>/dev/null)" ]]; then
    dirty=" (with uncommitted changes in src/ or pom.xml)"
  fi
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-bench.XXXXXX")
DATA_DIR="$WORK/data"
mkdir -p "$DATA_DIR"

free_port() { # a port nothing listens on now (checked by connecting)
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

# ------------------------------------------------------------------------------------------------------- targets ---
# The published demo keys of conf/declarations/demo.yaml (see its header).
SERVER_ID=af86a8a6-40f2-4b92-9f83-c9b3bafb2ccb
SERVER_KEY=${FLOWGATE_BENCH_SERVER_KEY:-sk-fGNTDKVjAOQ-Sag6rkygnZxhpnWerjKEpbS0jg}
API_ID=3c9a1f2e-8b7d-4e6a-9c5b-1d2e3f4a5b6c
API_KEY=${FLOWGATE_BENCH_API_KEY:-sk-Fm66pEdDG0F1tbi7G_nH3pWAK4-WpbpsdPxxdg}
BODY='{"input_data": {"name": "Ada"}}'
FG_PORT=$(free_port)
HELLO_PORT=$(free_port)
while [[ "$HELLO_PORT" == "$FG_PORT" ]]; do HELLO_PORT=$(free_port); done
TARGETS=(hello server api)
declare -A URL KEY
URL[hello]="http://127.0.0.1:$HELLO_PORT/hello"
URL[server]="http://127.0.0.1:$FG_PORT/node/deployment-trigger/$SERVER_ID/"
URL[api]="http://127.0.0.1:$FG_PORT/node/deployment-trigger/$API_ID/"
KEY[hello]=""
KEY[server]=$SERVER_KEY
KEY[api]=$API_KEY

for t in "${TARGETS[@]}"; do
  {
    echo 'wrk.method = "POST"'
    echo "wrk.body = '$BODY'"
    echo 'wrk.headers["Content-Type"] = "application/json"'
    [[ -n "${KEY[$t]}" ]] && echo "wrk.headers[\"X-API-Key\"] = \"${KEY[$t]}\""
  } >"$WORK/$t.lua"
done

# ---------------------------------------------------------------------------------------------------- start all ---
read -r -a JVM <<<"$JVM_FLAGS"
echo "run.sh: starting flowgate on 127.0.0.1:$FG_PORT (data $DATA_DIR, backends: $([[ $EXTERNAL == true ]] \
  && echo external || echo embedded))"
FLOWGATE_HTTP_PORT=$FG_PORT FLOWGATE_HTTP_HOST=127.0.0.1 FLOWGATE_DATA_DIR="$DATA_DIR" FLOWGATE_LOGGING_JSON=false \
  FLOWGATE_HTTP_SHUTDOWN_GRACE_SECONDS=2 \
  java "${JVM[@]}" -jar "$JAR" >"$WORK/flowgate.log" 2>&1 &
FG_PID=$!
PIDS+=("$FG_PID")

echo "run.sh: starting Hello on 127.0.0.1:$HELLO_PORT"
java "${JVM[@]}" -cp "$JAR" "$ROOT/bench/load/Hello.java" --port "$HELLO_PORT" >"$WORK/hello.log" 2>&1 &
HELLO_PID=$!
PIDS+=("$HELLO_PID")

wait_up() { # name, pid, url, seconds
  local name=$1 pid=$2 url=$3 secs=$4 i
  for ((i = 0; i < secs * 2; i++)); do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$WORK/$name.log" >&2; die "$name exited during start"; }
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    sleep 0.5
  done
  tail -n 30 "$WORK/$name.log" >&2
  die "$name not ready at $url after ${secs}s"
}
wait_up flowgate "$FG_PID" "http://127.0.0.1:$FG_PORT/health/ready" 180
wait_up hello "$HELLO_PID" "${URL[hello]}" 60
echo "run.sh: both ready"

verify() { # target, expected body fragment...
  local t=$1 code body
  shift
  local hdr=()
  [[ -n "${KEY[$t]}" ]] && hdr=(-H "X-API-Key: ${KEY[$t]}")
  body=$(curl -sS --max-time 10 -o - -w '\n%{http_code}' -X POST "${hdr[@]}" -H 'Content-Type: application/json' \
    --data "$BODY" "${URL[$t]}") || die "$t: request to ${URL[$t]} failed"
  code=${body##*$'\n'}
  body=${body%$'\n'*}
  [[ "$code" == 200 ]] || die "$t: expected 200 from ${URL[$t]}, got $code: $body"
  local f
  for f in "$@"; do
    [[ "$body" == *"$f"* ]] || die "$t: response lacks $f: $body"
  done
  echo "run.sh: verified $t: 200 ${body:0:100}..."
}
verify hello '"greeting":"Hello, Ada!"'
verify server '"status":"success"' '"status":"completed"' '"output_data":{"greeting":"Hello, Ada!"'
verify api '"status":"success"' '"status":"completed"' '"output_data":{"greeting":"Hello, Ada!"'

# ---------------------------------------------------------------------------------------------------------- load ---
wrk_run() { # target, seconds, output file
  local t=$1 secs=$2 out=$3
  run_load "$out" timeout $((secs + 60)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --timeout 10s --latency \
    -s "$WORK/$t.lua" "${URL[$t]}" || { cat "$out" >&2; die "wrk against $t failed"; }
}

declare -A RPS ERRS REQS
echo "run.sh: closed loop (wrk -t$THREADS -c$CONNECTIONS): warm-up ${WARMUP}s per target, then $REPEAT x ${DURATION}s"
for t in "${TARGETS[@]}"; do
  wrk_run "$t" "$WARMUP" "$WORK/wrk-$t-warmup.txt"
  echo "  warm-up $t: $(wrk_rps "$WORK/wrk-$t-warmup.txt") req/s"
done
# Interleaved (hello, server, api, hello, ...) so drift on the shared machine hits every target alike.
for ((r = 1; r <= REPEAT; r++)); do
  for t in "${TARGETS[@]}"; do
    f="$WORK/wrk-$t-$r.txt"
    wrk_run "$t" "$DURATION" "$f"
    RPS[$t]+="$(wrk_rps "$f") "
    ERRS[$t]=$(( ${ERRS[$t]:-0} + $(wrk_errors "$f") ))
    REQS[$t]=$(( ${REQS[$t]:-0} + $(wrk_total "$f") ))
    echo "  run $r $t: $(wrk_rps "$f") req/s, errors $(wrk_errors "$f")"
  done
done

declare -A MED MIN MAX
for t in "${TARGETS[@]}"; do
  # shellcheck disable=SC2086
  read -r MED[$t] MIN[$t] MAX[$t] <<<"$(stats ${RPS[$t]})"
done

HEY_ASKED=""
HEY_WORKERS=""
HEY_Q=""
hey_run() { # target, total rate, output file; sets HEY_ASKED (the rate actually asked for), HEY_WORKERS, HEY_Q
  local t=$1 rate=$2 out=$3 workers=$WORKERS q
  (( rate >= workers )) || workers=$rate
  q=$(( (rate + workers / 2) / workers ))
  local hdr=()
  [[ -n "${KEY[$t]}" ]] && hdr=(-H "X-API-Key: ${KEY[$t]}")
  run_load "$out" timeout $((DURATION + 60)) hey -z "${DURATION}s" -q "$q" -c "$workers" -t 10 -m POST \
    -T application/json "${hdr[@]}" -d "$BODY" "${URL[$t]}" || { cat "$out" >&2; die "hey against $t failed"; }
  HEY_ASKED=$((q * workers))
  HEY_WORKERS=$workers
  HEY_Q=$q
}
hey_pct() { # file, percentile -> ms
  awk -v p="$2%" '$1 == p && $2 == "in" {printf "%.2f", $3 * 1000}' "$1"
}

declare -A LAT_RATES
LAT_ROWS=()
echo "run.sh: fixed rate (hey, ${DURATION}s): $RATE req/s per target"
for t in "${TARGETS[@]}"; do
  rates=("$RATE")
  half=$(awk -v m="${MED[$t]}" 'BEGIN {printf "%d", m / 2}')
  if (( half < RATE && half > 0 )); then
    rates+=("$half")
  fi
  LAT_RATES[$t]="${rates[*]}"
  for rate in "${rates[@]}"; do
    f="$WORK/hey-$t-$rate.txt"
    hey_run "$t" "$rate" "$f"
    label="$HEY_ASKED"
    [[ "$rate" != "$RATE" ]] && label="$HEY_ASKED (50% of max)"
    if (( $(hey_rps "$f") * 100 < HEY_ASKED * 95 )); then
      label+=" (NOT reached: latency > workers' budget; raise --workers)"
    fi
    row="$t|$label|$(hey_rps "$f")|$(hey_pct "$f" 50)|$(hey_pct "$f" 99)|$(hey_errors "$f")|$HEY_WORKERS x $HEY_Q"
    LAT_ROWS+=("$row")
    echo "  $t at $label req/s: p50 $(hey_pct "$f" 50) ms, p99 $(hey_pct "$f" 99) ms, errors $(hey_errors "$f")"
  done
done

# --------------------------------------------------------------------------------------------------------- JFR ---
JFR_TEXT=""
if [[ -n "$JFR_DIR" ]]; then
  for t in server api; do
    jfr_file="$JFR_DIR/flowgate-$t.jfr"
    rm -f "$jfr_file"
    jcmd "$FG_PID" JFR.start name="bench-$t" settings=profile duration="${DURATION}s" filename="$jfr_file" >/dev/null
    wrk_run "$t" "$DURATION" "$WORK/wrk-$t-jfr.txt"
    for ((i = 0; i < 100; i++)); do
      [[ -s "$jfr_file" ]] && break
      sleep 0.2
    done
    sleep 1
    top=$(jfr print --events jdk.ExecutionSample --stack-depth 1 "$jfr_file" 2>/dev/null \
      | awk '/stackTrace = \[/ {getline; sub(/^[ \t]+/, ""); sub(/[ \t]+line:.*/, ""); print}' \
      | sort | uniq -c | sort -rn | awk 'NR <= 15')
    JFR_TEXT+=$'\n'"flowgate $t under wrk ($(wrk_rps "$WORK/wrk-$t-jfr.txt") req/s), $jfr_file, top self frames:"$'\n'"$top"$'\n'
  done
  echo "$JFR_TEXT"
fi

# ------------------------------------------------------------------------------------------------------ report ---
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.3f", a / b; else print "n/a"}'; }
R_SERVER=$(ratio "${MED[server]}" "${MED[hello]}")
R_API=$(ratio "${MED[api]}" "${MED[hello]}")

TABLE_MAX="| target | median req/s | min – max req/s | spread | requests | errors (non-2xx + socket) | ratio to /hello |
|---|---:|---:|---:|---:|---:|---:|"
for t in "${TARGETS[@]}"; do
  TABLE_MAX+=$'\n'"| $t | $(printf '%.0f' "${MED[$t]}") | $(printf '%.0f' "${MIN[$t]}") – $(printf '%.0f' "${MAX[$t]}") \
| $(spread "${MIN[$t]}" "${MAX[$t]}" "${MED[$t]}") | ${REQS[$t]} | ${ERRS[$t]} | $(ratio "${MED[$t]}" "${MED[hello]}") |"
done
TABLE_LAT="| target | asked req/s | achieved req/s | p50 ms | p99 ms | errors | hey workers x req/s |
|---|---:|---:|---:|---:|---:|---:|"
for row in "${LAT_ROWS[@]}"; do
  IFS='|' read -r t label got p50 p99 errs wq <<<"$row"
  TABLE_LAT+=$'\n'"| $t | $label | $got | $p50 | $p99 | $errs | $wq |"
done

p99_at_rate() { # target -> p99 ms at --rate
  local row t label rest
  for row in "${LAT_ROWS[@]}"; do
    IFS='|' read -r t label rest <<<"$row"
    if [[ "$t" == "$1" && "$label" != *"of max"* ]]; then
      IFS='|' read -r _ _ _ _ p99 errs _ <<<"$row"
      [[ "$label" == *"NOT reached"* ]] && errs="$errs (rate not reached)"
      echo "$p99 $errs"
      return
    fi
  done
}
read -r P99_SERVER E_SERVER <<<"$(p99_at_rate server)"
read -r P99_API E_API <<<"$(p99_at_rate api)"
ge() { awk -v a="$1" -v b="$2" 'BEGIN {print (a != "n/a" && a >= b) ? 1 : 0}'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN {print (a != "" && a <= b) ? 1 : 0}'; }
lat_ok() { [[ "$(le "$1" 5)" == 1 && "$2" == 0 ]] && echo 1 || echo 0; } # p99 ms, errors (+ "rate not reached")
TARGET_LINES="- server throughput ≥ 0.35× /hello: $R_SERVER× → $(verdict "$(ge "$R_SERVER" 0.35)")
- api throughput ≥ 0.15× /hello: $R_API× → $(verdict "$(ge "$R_API" 0.15)")
- server p99 ≤ 5 ms at $RATE req/s: ${P99_SERVER} ms, errors $E_SERVER → $(verdict "$(lat_ok "$P99_SERVER" "$E_SERVER")")
- api p99 ≤ 5 ms at $RATE req/s: ${P99_API} ms, errors $E_API → $(verdict "$(lat_ok "$P99_API" "$E_API")")"
[[ "$RATE" != 1000 ]] && TARGET_LINES+=$'\n'"- (the targets are stated at 1000 req/s; this run used --rate $RATE)"

cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
jdk=$(java -version 2>&1 | sed -n 2p)
load_now=$(cut -d' ' -f1-3 /proc/loadavg)
jar_sum=$(sha256sum "$JAR" | cut -c1-12)
backends=$([[ $EXTERNAL == true ]] && echo "external (FLOWGATE_PG_URL, FLOWGATE_REDIS_URL, key prefix \
$FLOWGATE_REDIS_KEY_PREFIX)" || echo "embedded PostgreSQL and redis-server (fresh data dir)")

SECTION="## $(date -u '+%Y-%m-%d %H:%M UTC') — commit $commit$dirty

- Machine: $(nproc) cores, $cpu_model, $mem; load average at the start $LOAD_START, at the end $load_now
- JDK: $jdk; JVM flags (flowgate and Hello): \`$JVM_FLAGS\`
- flowgate: \`target/flowgate.jar\` (sha256 $jar_sum…), defaults of conf/flowgate.yaml, $backends; demo flow
  api_input → transform → output, body \`$BODY\`
- Closed loop: \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s\`, POST, one ${WARMUP}s warm-up per target, then $REPEAT
  runs per target interleaved (hello, server, api, …); fixed rate: \`hey -z ${DURATION}s -c <workers> -q <per worker>\`
  at $RATE req/s total, also at 50% of the measured max where that is lower than $RATE
${NOTE:+- Note: $NOTE
}
Max throughput (closed loop):

$TABLE_MAX

Latency at a fixed rate:

$TABLE_LAT

Targets (ratios of medians in this run):

$TARGET_LINES
"
echo
echo "$SECTION"
[[ -n "$JFR_TEXT" ]] && SECTION+=$'\nJFR (extra runs after the measurements):\n\n```'"$JFR_TEXT"$'```\n'
if [[ ! -f "$RESULTS" ]]; then
  printf '# flowgate load benchmark results\n\nAppended by `bench/load/run.sh`; see bench/README.md for how to read them.\n' \
    >"$RESULTS"
fi
printf '\n%s' "$SECTION" >>"$RESULTS"
echo "run.sh: appended to $RESULTS"
