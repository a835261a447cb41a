#!/usr/bin/env bash
# flowgate's benchmark suite: one command, every process on 127.0.0.1, every load bounded in time, everything it
# starts stopped on any exit. See bench/README.md for the scenarios and how to read the tables.
#
#   bench/run.sh [options] [scenario...]        scenarios: fast sync async startup memory (default: all), jmh
#
# Prints one table per scenario and appends them to bench/RESULTS.md (--results FILE, or --no-results).
set -euo pipefail

SCENARIOS_ALL=(fast sync async startup memory)
SCENARIOS_OPTIONAL=(jmh)

usage() {
  cat <<'EOF'
usage: bench/run.sh [options] [scenario...]
scenarios (default: fast sync async startup memory):
  fast      reference inference server direct vs flowgate Fast Mode vs nginx vs HAProxy
  sync      trivial flow, deployment types server and api, vs a bare Vert.x /hello (same JVM flags)
  async     durable 202/s and completions/s of an async api deployment, 1 node vs 2 nodes
  startup   process start to 200 on /health/ready, external and embedded PostgreSQL/Redis
  memory    RSS idle and under the fast load (measured during `fast` when both run)
  jmh       (optional, not in the default) JMH micro-benchmarks of the hot code (./mvnw -Pbench)
options:
  --duration S        seconds of each measured run, closed loop and fixed rate          [10]
  --warmup S          seconds of the closed-loop warm-up run per target                 [= --duration]
  --repeat N          measured runs per target and load kind (median, min–max)          [3]
  --connections C     connections of both load generators                                [64]
  --threads T         threads of both load generators                                    [2]
  --rate R            fixed rate for every target (default: 50% of the lowest measured max in the scenario)
  --fixed-warmup S    unrecorded seconds at the fixed rate before each recorded run      [2]
  --startup-repeat N  starts per startup variant                                         [= --repeat]
  --delay-ms MS       the async scenario flow's delay node                               [20]
  --async-warmup S    seconds of the async scenario's closed-loop warm-up per target     [40]
  --async-latency-rate R  the async scenario's extra fixed rate on 1 node (issue #3)     [1000]
  --async-slots N     worker_concurrency of each node in the async scenario's slot-bound part  [16]
  --async-slots-rate R  trigger rate of the slot-bound part (above what 1 node's slots complete) [2000]
  --jvm-flags "F"     JVM flags of flowgate and Hello    [@<repo>/conf/jvm.options: the shipped launch settings]
  --ref-jvm-flags "F" JVM flags of the reference inference server   [-Xms256m -Xmx256m -XX:+UseSerialGC]
  --proxy-workers N   nginx worker_processes and HAProxy nbthread                        [nproc]
  --pg-url URL        the external PostgreSQL of `startup` (a database is created and dropped)
                                                       [postgresql://postgres@127.0.0.1:5432/postgres]
  --redis-url URL     the external Redis of `startup` (a unique key prefix, deleted after)  [redis://127.0.0.1:6379]
  --profile DIR       one extra closed-loop run per flowgate target under async-profiler: DIR/<scenario>-<target>.collapsed
  --jmh-args "A"      arguments for the JMH runner (jmh scenario)           [-f 1 -wi 3 -w 2s -i 5 -r 2s]
  --results FILE      where to append the results                                       [bench/RESULTS.md]
  --no-results        print the tables only
  --source-repo DIR   git checkout the tree was copied from, for the commit line         [this tree]
  --note TEXT         one line added to the results
  --keep              keep the temp dir (logs, configs, raw outputs) after a successful run
  -h, --help          this text
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
source "$ROOT/bench/lib/common.sh"
WORK=""
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

DURATION=10
WARMUP=""
REPEAT=3
CONNECTIONS=64
THREADS=2
FIXED_RATE=""
FIXED_WARMUP=2
STARTUP_REPEAT=""
DELAY_MS=20
ASYNC_WARMUP=40
ASYNC_LATENCY_RATE=1000
ASYNC_SLOTS=16
ASYNC_SLOTS_RATE=2000
JVM_FLAGS="@$ROOT/conf/jvm.options -Dvertx.disableContextTimings=true"
REF_JVM_FLAGS="-Xms256m -Xmx256m -XX:+UseSerialGC"
PROXY_WORKERS=$(nproc)
EXT_PG_URL="postgresql://postgres@127.0.0.1:5432/postgres"
EXT_REDIS_URL="redis://127.0.0.1:6379"
PROFILE_DIR=""
JMH_ARGS="-f 1 -wi 3 -w 2s -i 5 -r 2s"
RESULTS="$ROOT/bench/RESULTS.md"
NO_RESULTS=false
SOURCE_REPO="$ROOT"
NOTE=""
KEEP_WORK=false
SCENARIOS=()

value() { [[ $# -ge 2 && -n "$2" ]] || die "option $1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) value "$@"; DURATION=$2; shift 2 ;;
    --warmup) value "$@"; WARMUP=$2; shift 2 ;;
    --repeat) value "$@"; REPEAT=$2; shift 2 ;;
    --connections) value "$@"; CONNECTIONS=$2; shift 2 ;;
    --threads) value "$@"; THREADS=$2; shift 2 ;;
    --rate) value "$@"; FIXED_RATE=$2; shift 2 ;;
    --fixed-warmup) value "$@"; FIXED_WARMUP=$2; shift 2 ;;
    --startup-repeat) value "$@"; STARTUP_REPEAT=$2; shift 2 ;;
    --delay-ms) value "$@"; DELAY_MS=$2; shift 2 ;;
    --async-warmup) value "$@"; ASYNC_WARMUP=$2; shift 2 ;;
    --async-latency-rate) value "$@"; ASYNC_LATENCY_RATE=$2; shift 2 ;;
    --async-slots) value "$@"; ASYNC_SLOTS=$2; shift 2 ;;
    --async-slots-rate) value "$@"; ASYNC_SLOTS_RATE=$2; shift 2 ;;
    --jvm-flags) value "$@"; JVM_FLAGS=$2; shift 2 ;;
    --ref-jvm-flags) value "$@"; REF_JVM_FLAGS=$2; shift 2 ;;
    --proxy-workers) value "$@"; PROXY_WORKERS=$2; shift 2 ;;
    --pg-url) value "$@"; EXT_PG_URL=$2; shift 2 ;;
    --redis-url) value "$@"; EXT_REDIS_URL=$2; shift 2 ;;
    --profile) value "$@"; PROFILE_DIR=$2; shift 2 ;;
    --jmh-args) value "$@"; JMH_ARGS=$2; shift 2 ;;
    --results) value "$@"; RESULTS=$2; shift 2 ;;
    --no-results) NO_RESULTS=true; shift ;;
    --source-repo) value "$@"; SOURCE_REPO=$2; shift 2 ;;
    --note) value "$@"; NOTE=$2; shift 2 ;;
    --keep) KEEP_WORK=true; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option '$1'" ;;
    *)
      [[ " ${SCENARIOS_ALL[*]} ${SCENARIOS_OPTIONAL[*]} " == *" $1 "* ]] \
        || die "unknown scenario '$1'; valid scenarios: ${SCENARIOS_ALL[*]} ${SCENARIOS_OPTIONAL[*]} (none: all but jmh)"
      [[ " ${SCENARIOS[*]} " == *" $1 "* ]] || SCENARIOS+=("$1")
      shift ;;
  esac
done
(( ${#SCENARIOS[@]} > 0 )) || SCENARIOS=("${SCENARIOS_ALL[@]}")
WARMUP=${WARMUP:-$DURATION}
STARTUP_REPEAT=${STARTUP_REPEAT:-$REPEAT}
for v in DURATION WARMUP REPEAT CONNECTIONS THREADS STARTUP_REPEAT DELAY_MS ASYNC_WARMUP ASYNC_LATENCY_RATE ASYNC_SLOTS \
  ASYNC_SLOTS_RATE PROXY_WORKERS; do
  is_uint "${!v}" || die "--$(tr '[:upper:]_' '[:lower:]-' <<<"$v") must be a positive integer, got '${!v}'"
done
[[ "$FIXED_WARMUP" =~ ^[0-9]+$ ]] || die "--fixed-warmup must be a whole number of seconds, got '$FIXED_WARMUP'"
[[ -z "$FIXED_RATE" ]] || is_uint "$FIXED_RATE" || die "--rate must be a positive integer, got '$FIXED_RATE'"
(( CONNECTIONS >= THREADS )) || die "--connections ($CONNECTIONS) must be at least --threads ($THREADS)"
SOURCE_REPO=$(cd "$SOURCE_REPO" 2>/dev/null && pwd) || die "--source-repo: no such directory"
if [[ -n "$PROFILE_DIR" ]]; then
  mkdir -p "$PROFILE_DIR" && PROFILE_DIR=$(cd "$PROFILE_DIR" && pwd) || die "cannot create $PROFILE_DIR"
fi
has() { [[ " ${SCENARIOS[*]} " == *" $1 "* ]]; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-bench.XXXXXX")
STARTED_AT=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ----------------------------------------------------------------------------------------------------- tools ---
for t in java javac curl; do command -v "$t" >/dev/null || die "missing $t (a JDK 17+ and curl are needed)"; done
tools=()
if has fast || has sync || has async || has memory; then tools+=(wrk); fi
if has fast || has memory; then tools+=(nginx=nginx-light haproxy); fi
if has async || has startup; then tools+=(psql=postgresql-client); fi
if has startup; then tools+=(redis-cli=redis-tools); fi
if [[ -n "$PROFILE_DIR" ]]; then tools+=(jcmd=openjdk-17-jdk-headless unzip); fi
(( ${#tools[@]} == 0 )) || need_tools "${tools[@]}"
NGINX=$(tool_path nginx)
HAPROXY=$(tool_path haproxy)

# ---------------------------------------------------------------------------------------------------- build ---
JAR="$ROOT/target/flowgate.jar"
if [[ ! -f "$JAR" ]]; then
  say "$JAR missing; building it (./mvnw -q -DskipTests package)"
  (cd "$ROOT" && timeout 1200 ./mvnw -B -q -DskipTests package) || die "the build failed"
fi
mkdir -p "$WORK/classes"
javac -nowarn -cp "$JAR" -d "$WORK/classes" "$ROOT/bench/Hello.java" "$ROOT/bench/LoadGen.java" \
  >"$WORK/javac.log" 2>&1 || { cat "$WORK/javac.log" >&2; die "compiling bench/Hello.java and bench/LoadGen.java failed"; }

read -r -a FG_JVM <<<"$JVM_FLAGS"
read -r -a REF_JVM <<<"$REF_JVM_FLAGS"
ADMIN_TOKEN=${FLOWGATE_ADMIN_TOKEN:-bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')}
(( ${#ADMIN_TOKEN} >= 16 )) || die "FLOWGATE_ADMIN_TOKEN must have at least 16 characters"
# Our own backends only: never someone's servers named in the environment (startup names its external ones itself).
unset FLOWGATE_PG_URL FLOWGATE_REDIS_URL FLOWGATE_REDIS_KEY_PREFIX

COMMIT="unknown"
if git -C "$SOURCE_REPO" rev-parse --short HEAD >/dev/null 2>&1; then
  COMMIT=$(git -C "$SOURCE_REPO" rev-parse --short HEAD)
  # The results file itself does not change what is measured: a run appended before this one and not committed yet
  # must not mark this one.
  [[ -z "$(git --no-optional-locks -C "$SOURCE_REPO" status --porcelain -- src pom.xml bench conf \
      ':(exclude)bench/RESULTS.md' 2>/dev/null)" ]] \
    || COMMIT+=" (with uncommitted changes in src/, pom.xml, bench/ or conf/)"
fi

# ------------------------------------------------------------------------------------------------- scenarios ---
REPORT=""
PROFILES=""
# Each scenario's tables, also written to the work dir at once: a later scenario that fails (exit 2, work dir kept)
# does not take the finished ones with it.
report() { REPORT+="$1"$'\n'; printf '%s\n' "$1" >>"$WORK/report.md"; }
for s in "${SCENARIOS_ALL[@]}" "${SCENARIOS_OPTIONAL[@]}"; do # definitions only (memory uses fast's set-up)
  # shellcheck source=/dev/null
  source "$ROOT/bench/scenarios/$s.sh"
done
for s in "${SCENARIOS[@]}"; do
  [[ $s == memory ]] && has fast && continue # measured during fast
  say "=== scenario $s ==="
  "scenario_$s"
  stop_started
done

# ---------------------------------------------------------------------------------------------------- report ---
# The options inside each @argfile of the JVM flags, for the record (the file may change between commits).
jvm_options_note() {
  local f
  for f in $JVM_FLAGS; do
    [[ $f == @* && -r ${f#@} ]] || continue
    printf ' (%s: `%s`)' "${f#@"$ROOT"/}" "$(grep -v '^[[:space:]]*#' "${f#@}" | grep -v '^[[:space:]]*$' | tr '\n' ' ' \
      | sed 's/ $//')"
  done
}
ELAPSED=$(( $(date +%s) - STARTED_AT ))
SECTION="## $(date -u '+%Y-%m-%d %H:%M UTC') — bench/run.sh ${SCENARIOS[*]} — commit $COMMIT

- Machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), \
$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); load average at the start $LOAD_START, at the end \
$(cut -d' ' -f1-3 /proc/loadavg); the whole run took $((ELAPSED / 60)) min $((ELAPSED % 60)) s
- JDK: $(java -version 2>&1 | sed -n 2p); flowgate and Hello \`$JVM_FLAGS\`$(jvm_options_note); reference server
  \`$REF_JVM_FLAGS\`
- flowgate: \`target/flowgate.jar\` (sha256 $(sha256sum "$JAR" | cut -c1-12)…), defaults of conf/flowgate.yaml
- Settings: closed loop \`wrk -t$THREADS -c$CONNECTIONS\`, ${WARMUP}s warm-up per target$(if has async; then echo " (async targets: ${ASYNC_WARMUP}s)"; fi), $REPEAT x ${DURATION}s per target
  (interleaved, order rotated); fixed rate bench/LoadGen.java ($THREADS threads, $CONNECTIONS connections, open model,
  latency from each request's due time) at $( [[ -n $FIXED_RATE ]] && echo "$FIXED_RATE req/s" || echo "50% of the \
lowest median maximum of the scenario") for every target, ${FIXED_WARMUP}s unrecorded + $REPEAT x ${DURATION}s
${NOTE:+- Note: $NOTE
}
$REPORT"
[[ -n "$PROFILES" ]] && SECTION+=$'\n'"Profiles (async-profiler, extra runs after the measurements):"$'\n\n'"$PROFILES"
echo
echo "$SECTION"
if [[ "$NO_RESULTS" == false ]]; then
  mkdir -p "$(dirname "$RESULTS")"
  printf '\n%s' "$SECTION" >>"$RESULTS"
  say "appended to $RESULTS"
fi
say "done in $((ELAPSED / 60)) min $((ELAPSED % 60)) s"
