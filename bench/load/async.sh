#!/usr/bin/env bash
# Async scenario (issue #3 item 10): durable async triggers per second (closed loop), trigger latency at a fixed
# rate, and end-to-end completions per second with 1 and 2 flowgate nodes, for a flow api_input → delay 20 ms →
# output on an async `api` deployment. All on 127.0.0.1. See bench/README.md ("Async scenario").
#
#   bench/load/async.sh [--duration S] [--repeat N] [--runs N] [options below]     (or: run.sh --scenario async ...)
#
# Node 1 starts with its embedded PostgreSQL and redis-server (fresh temp data dir); node 2 is pointed at node 1's
# embedded servers (URLs from node 1's log), so both share one queue and one database. Appends a dated section to
# bench/RESULTS.md (or --results FILE). Every process it starts is stopped on any exit.
set -euo pipefail

NAME=async.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=bench/load/lib.sh
source "$ROOT/bench/load/lib.sh"

usage() {
  cat <<'EOF'
usage: bench/load/async.sh [options]          (also: bench/load/run.sh --scenario async [options])
  --duration S       seconds per measured wrk and hey run                              [15]
  --warmup S         seconds of the warm-up wrk run (node 1, and node 2 before the 2-node runs) [= --duration]
  --repeat N         measured closed-loop trigger runs (median, min-max reported)      [3]
  --connections C    wrk connections (closed loop)                                     [64]
  --threads T        wrk threads                                                       [2]
  --rate R           total req/s of the fixed-rate trigger latency run (hey)           [1000]
  --workers W        hey workers at --rate (each at R/W req/s)                         [10]
  --runs N           async triggers per end-to-end measurement (split over the nodes)  [5000]
  --e2e-repeat N     end-to-end measurements per node count                            [2]
  --fire-conns C     concurrent clients firing the end-to-end triggers (hey -c)        [64]
  --delay-ms MS      the flow's delay node                                             [20]
  --drain-timeout S  longest wait for queued runs to complete (per wait)               [300]
  --jvm-flags "F"    JVM flags of both nodes
                     [-Xms256m -Xmx256m -XX:+UseSerialGC -Dvertx.disableContextTimings=true]
  --jfr DIR          after the measurements, one extra closed-loop trigger run on node 1 (2 nodes up) under JFR;
                     writes DIR/flowgate-async.jfr and prints the hottest frames
  --results FILE     where to append the results section                               [<repo>/bench/RESULTS.md]
  --source-repo DIR  git checkout the tree was copied from, for the commit line        [<repo>]
  --note TEXT        one line added to the results section
  --keep             keep the temp dir (logs) after a successful run
  -h, --help         this text
EOF
}

DURATION=15
WARMUP=""
REPEAT=3
CONNECTIONS=64
THREADS=2
RATE=1000
WORKERS=10
RUNS=5000
E2E_REPEAT=2
FIRE_CONNS=64
DELAY_MS=20
DRAIN_TIMEOUT=300
JVM_FLAGS="-Xms256m -Xmx256m -XX:+UseSerialGC -Dvertx.disableContextTimings=true"
JFR_DIR=""
RESULTS="$ROOT/bench/RESULTS.md"
SOURCE_REPO="$ROOT"
NOTE=""
KEEP_WORK=false

while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) need_value "$@"; DURATION=$2; shift 2 ;;
    --warmup) need_value "$@"; WARMUP=$2; shift 2 ;;
    --repeat) need_value "$@"; REPEAT=$2; shift 2 ;;
    --connections) need_value "$@"; CONNECTIONS=$2; shift 2 ;;
    --threads) need_value "$@"; THREADS=$2; shift 2 ;;
    --rate) need_value "$@"; RATE=$2; shift 2 ;;
    --workers) need_value "$@"; WORKERS=$2; shift 2 ;;
    --runs) need_value "$@"; RUNS=$2; shift 2 ;;
    --e2e-repeat) need_value "$@"; E2E_REPEAT=$2; shift 2 ;;
    --fire-conns) need_value "$@"; FIRE_CONNS=$2; shift 2 ;;
    --delay-ms) need_value "$@"; DELAY_MS=$2; shift 2 ;;
    --drain-timeout) need_value "$@"; DRAIN_TIMEOUT=$2; shift 2 ;;
    --jvm-flags) need_value "$@"; JVM_FLAGS=$2; shift 2 ;;
    --jfr) need_value "$@"; JFR_DIR=$2; shift 2 ;;
    --results) need_value "$@"; RESULTS=$2; shift 2 ;;
    --source-repo) need_value "$@"; SOURCE_REPO=$2; shift 2 ;;
    --note) need_value "$@"; NOTE=$2; shift 2 ;;
    --keep) KEEP_WORK=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done
WARMUP=${WARMUP:-$DURATION}
for v in DURATION WARMUP REPEAT CONNECTIONS THREADS RATE WORKERS RUNS E2E_REPEAT FIRE_CONNS DELAY_MS DRAIN_TIMEOUT; do
  is_uint "${!v}" || die "--$(tr '[:upper:]_' '[:lower:]-' <<<"$v") must be a positive integer, got '${!v}'"
done
(( CONNECTIONS >= THREADS )) || die "--connections ($CONNECTIONS) must be at least --threads ($THREADS)"
(( RATE >= WORKERS )) || WORKERS=$RATE
(( RUNS >= 2 * FIRE_CONNS )) || die "--runs ($RUNS) must be at least twice --fire-conns ($FIRE_CONNS)"
(( FIRE_CONNS % 2 == 0 )) || die "--fire-conns must be even (split over 2 nodes)"
[[ -z "$JFR_DIR" ]] || { mkdir -p "$JFR_DIR" && JFR_DIR=$(cd "$JFR_DIR" && pwd); } || die "cannot create $JFR_DIR"
# Always our own embedded backends: never someone's servers named in the environment.
unset FLOWGATE_PG_URL FLOWGATE_REDIS_URL FLOWGATE_REDIS_KEY_PREFIX

need_tools wrk hey
command -v psql >/dev/null || need_tools postgresql-client
for t in java curl psql; do command -v "$t" >/dev/null || die "missing $t"; done
[[ -z "$JFR_DIR" ]] || for t in jcmd jfr; do command -v "$t" >/dev/null || die "--jfr needs $t (a JDK)"; done

JAR="$ROOT/target/flowgate.jar"
if [[ ! -f "$JAR" ]]; then
  echo "$NAME: building $JAR"
  (cd "$ROOT" && timeout 900 ./mvnw -q -o -DskipTests package) || die "build failed"
fi
SOURCE_REPO=$(cd "$SOURCE_REPO" && pwd) || die "--source-repo: no such directory"
bench_commit
bench_init_work
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------------- node 1 ---
ADMIN_TOKEN=${FLOWGATE_ADMIN_TOKEN:-bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')}
(( ${#ADMIN_TOKEN} >= 16 )) || die "FLOWGATE_ADMIN_TOKEN must have at least 16 characters"
read -r -a JVM <<<"$JVM_FLAGS"
P1=$(free_port)
P2=$(free_port)
start_node() { # n, port, extra env... ; sets NODE_PID[n]
  local n=$1 port=$2
  shift 2
  mkdir -p "$WORK/data$n"
  DATA_DIRS+=("$WORK/data$n")
  (cd "$ROOT" && exec env "$@" FLOWGATE_HTTP_PORT="$port" FLOWGATE_HTTP_HOST=127.0.0.1 FLOWGATE_DATA_DIR="$WORK/data$n" \
    FLOWGATE_LOGGING_JSON=false FLOWGATE_HTTP_SHUTDOWN_GRACE_SECONDS=2 FLOWGATE_ADMIN_TOKEN="$ADMIN_TOKEN" \
    FLOWGATE_NODE_ID="bench-node-$n" java "${JVM[@]}" -jar "$JAR") >"$WORK/node$n.log" 2>&1 &
  NODE_PID[$n]=$!
  PIDS+=("${NODE_PID[$n]}")
  wait_up "node$n" "${NODE_PID[$n]}" "http://127.0.0.1:$port/health/ready" 180
}
declare -A NODE_PID
echo "$NAME: starting node 1 on 127.0.0.1:$P1 (embedded PostgreSQL and redis-server in $WORK/data1)"
start_node 1 "$P1"
PG_PORT=$(sed -n 's/.*embedded PostgreSQL ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/node1.log" | head -1)
REDIS_PORT=$(sed -n 's/.*embedded Redis ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/node1.log" | head -1)
[[ -n "$PG_PORT" && -n "$REDIS_PORT" ]] || die "could not read the embedded backends' ports from $WORK/node1.log"
PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
echo "$NAME: node 1 ready; embedded $PG_URL, $REDIS_URL"
sql() { PGCONNECT_TIMEOUT=5 psql -X -q -At -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "$1"; }

# --------------------------------------------------------------------------------------------- flow, deployments ---
api() { # method path [json] -> body; dies on non-2xx
  local out code
  out=$(curl -sS --max-time 20 -o - -w '\n%{http_code}' -X "$1" -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "http://127.0.0.1:$P1/api/v1$2") || die "$1 $2 failed"
  code=${out##*$'\n'}
  [[ "$code" == 2* ]] || die "$1 $2: HTTP $code: ${out%$'\n'*}"
  echo "${out%$'\n'*}"
}
json_field() { grep -o "\"$1\":\"[^\"]*\"" | head -1 | cut -d'"' -f4; }
FLOW_ID=$(api POST /flows "{\"name\":\"bench-async-delay$DELAY_MS\",\"nodes\":[
  {\"id\":\"input\",\"type\":\"api_input\",\"config\":{}},
  {\"id\":\"wait\",\"type\":\"delay\",\"config\":{\"ms\":$DELAY_MS}},
  {\"id\":\"output\",\"type\":\"output\",\"config\":{}}],
  \"edges\":[{\"from\":\"input\",\"to\":\"wait\"},{\"from\":\"wait\",\"to\":\"output\"}]}" | json_field id)
[[ -n "$FLOW_ID" ]] || die "no flow id"
declare -A DEP KEY
new_deployment() { # label
  local body
  body=$(api POST /deployments "{\"flow_id\":\"$FLOW_ID\",\"name\":\"bench-$1\",\"execution_mode\":\"async\",\"deployment_type\":\"api\"}")
  DEP[$1]=$(json_field id <<<"$body")
  KEY[$1]=$(json_field api_key <<<"$body")
  [[ -n "${DEP[$1]}" && "${KEY[$1]}" == sk-* ]] || die "deployment $1: unexpected answer $body"
}
new_deployment trig
for ((r = 1; r <= E2E_REPEAT; r++)); do new_deployment "e2e1-$r"; new_deployment "e2e2-$r"; done
BODY='{"input_data": {"features": [5.1, 3.5, 1.4, 0.2]}}'
url() { echo "http://127.0.0.1:$1/node/deployment-trigger/${DEP[$2]}/"; } # port label

# One trigger and its completion, end to end, before any load.
ans=$(curl -sS --max-time 10 -X POST -H "X-API-Key: ${KEY[trig]}" -H 'Content-Type: application/json' --data "$BODY" \
  -w '\n%{http_code}' "$(url "$P1" trig)") || die "trigger failed"
[[ "${ans##*$'\n'}" == 202 ]] || die "expected 202 from the async trigger, got: $ans"
RUN_ID=$(json_field flow_run_id <<<"${ans%$'\n'*}")
done_ans=$(curl -sS --max-time 15 -H "X-API-Key: ${KEY[trig]}" "http://127.0.0.1:$P1/node/flow-runs/$RUN_ID/?wait=10")
[[ "$done_ans" == *'"status":"completed"'* ]] || die "run $RUN_ID did not complete: $done_ans"
echo "$NAME: verified: 202 then completed (run $RUN_ID)"

{
  echo 'wrk.method = "POST"'
  echo "wrk.body = '$BODY'"
  echo 'wrk.headers["Content-Type"] = "application/json"'
  echo "wrk.headers[\"X-API-Key\"] = \"${KEY[trig]}\""
  cat <<'EOF'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) n202 = 0; nother = 0 end
function response(status, headers, body)
  if status == 202 then n202 = n202 + 1 else nother = nother + 1 end
end
function done(summary, latency, requests)
  local a, o = 0, 0
  for _, t in ipairs(threads) do a = a + t:get("n202"); o = o + t:get("nother") end
  io.write(string.format("STATUS202 %d\nSTATUSOTHER %d\n", a, o))
end
EOF
} >"$WORK/trig.lua"

# -------------------------------------------------------------------------------------------------- helpers ---
open_runs() { sql "select count(*) from run_history where status in ('queued','running')"; }
rows_of() { sql "select count(*) from run_history where deployment_id = '${DEP[$1]}'"; }
DRAIN_S=""
drain() { # wait until no run is queued or running; sets DRAIN_S
  local t0 n i
  t0=$(now_s)
  for ((i = 0; i < DRAIN_TIMEOUT * 4; i++)); do
    n=$(open_runs)
    if [[ "$n" == 0 ]]; then
      DRAIN_S=$(awk -v a="$t0" -v b="$(now_s)" 'BEGIN {printf "%.1f", b - a}')
      return 0
    fi
    sleep 0.25
  done
  die "$n runs still queued or running after ${DRAIN_TIMEOUT}s (see $WORK/node*.log)"
}
wrk_trig() { # port(s, space separated), seconds, output file prefix; one wrk per port, connections split
  local ports=($1) secs=$2 out=$3 p pids=() c t
  c=$((CONNECTIONS / ${#ports[@]}))
  t=$((THREADS / ${#ports[@]})); ((t >= 1)) || t=1
  for p in "${ports[@]}"; do
    timeout $((secs + 60)) wrk -t"$t" -c"$c" -d"${secs}s" --timeout 10s --latency -s "$WORK/trig.lua" \
      "$(url "$p" trig)" >"$out-$p.txt" 2>&1 &
    pids+=($!)
    PIDS+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || die "wrk failed: $(cat "$out"-*.txt)"; done
}
s202() { awk '/^STATUS202/ {n += $2} END {print n + 0}' "$@"; }
sother() { # non-202 responses + socket errors
  awk '/^STATUSOTHER/ {n += $2} /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$@"
}
max_secs() { local f m=0; for f in "$@"; do m=$(awk -v a="$m" -v b="$(wrk_secs "$f")" 'BEGIN {print (b > a) ? b : a}'); done; echo "$m"; }

# ------------------------------------------------------------------------------------- closed-loop triggers ---
echo "$NAME: closed loop (wrk -t$THREADS -c$CONNECTIONS) on node 1: warm-up ${WARMUP}s, then $REPEAT x ${DURATION}s"
wrk_trig "$P1" "$WARMUP" "$WORK/wrk-warmup"
echo "  warm-up: $(s202 "$WORK"/wrk-warmup-*.txt) x 202 in $(max_secs "$WORK"/wrk-warmup-*.txt)s; draining"
drain
TRIG_ROWS=()
TRIG_RPS=()
TRIG_CPU=()
for ((r = 1; r <= REPEAT; r++)); do
  before=$(rows_of trig)
  c0=$(cpu_ticks "${NODE_PID[1]}" --dir "$WORK/data1")
  wrk_trig "$P1" "$DURATION" "$WORK/wrk-$r"
  f=("$WORK/wrk-$r"-*.txt)
  after=$(rows_of trig)
  drain
  c1=$(cpu_ticks "${NODE_PID[1]}" --dir "$WORK/data1")
  n=$(s202 "${f[@]}")
  secs=$(max_secs "${f[@]}")
  rps=$(awk -v n="$n" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')
  TRIG_RPS+=("$rps")
  cpu=$(us_per $((c1 - c0)) "$n")
  TRIG_CPU+=("$cpu")
  TRIG_ROWS+=("$r|$rps|$n|$(sother "${f[@]}")|$((after - before))|$(wrk_pct_ms "${f[0]}" 50)|$(wrk_pct_ms "${f[0]}" 99)|$DRAIN_S|$cpu")
  echo "  run $r: $rps 202/s ($n x 202, $(sother "${f[@]}") errors, $((after - before)) rows in run_history), then ${DRAIN_S}s to drain; CPU $cpu µs per 202"
done
# shellcheck disable=SC2086
read -r T_MED T_MIN T_MAX <<<"$(stats ${TRIG_RPS[*]})"
# shellcheck disable=SC2086
read -r T_CPU _ _ <<<"$(stats ${TRIG_CPU[*]})"

# ----------------------------------------------------------------------------------- trigger latency (hey) ---
q=$(( (RATE + WORKERS / 2) / WORKERS ))
HEY_ASKED=$((q * WORKERS))
echo "$NAME: fixed rate on node 1: hey -z ${DURATION}s -c $WORKERS -q $q ($HEY_ASKED req/s)"
run_load "$WORK/hey.txt" timeout $((DURATION + 60)) hey -z "${DURATION}s" -q "$q" -c "$WORKERS" -t 10 -m POST \
  -T application/json -H "X-API-Key: ${KEY[trig]}" -d "$BODY" "$(url "$P1" trig)" \
  || { cat "$WORK/hey.txt" >&2; die "hey failed"; }
drain
H_RPS=$(hey_rps "$WORK/hey.txt"); H_P50=$(hey_pct "$WORK/hey.txt" 50); H_P99=$(hey_pct "$WORK/hey.txt" 99)
H_202=$(hey_status "$WORK/hey.txt" 202); H_ERR=$(hey_errors "$WORK/hey.txt")
H_REACHED=yes
(( H_RPS * 100 >= HEY_ASKED * 95 )) || H_REACHED="NOT reached"
echo "  $H_RPS req/s: p50 $H_P50 ms, p99 $H_P99 ms, $H_202 x 202, errors $H_ERR; drained in ${DRAIN_S}s"

# ---------------------------------------------------------------------------------------------- end to end ---
E2E_ROWS=()
declare -A E2E_RATES
e2e() { # nodes (1|2), repeat index
  local nodes=$1 r=$2 label="e2e$1-$2" ports=("$P1") per p pids=() i t0 t_fired t_done c f n out
  (( nodes == 2 )) && ports=("$P1" "$P2")
  # hey -n N -c C sends C x floor(N / C): fire a multiple of the clients per node, the same total for 1 and 2 nodes.
  local clients=$((FIRE_CONNS / nodes))
  per=$(( (RUNS / FIRE_CONNS) * FIRE_CONNS / nodes ))
  n=$((per * nodes))
  t0=$(now_s)
  for p in "${ports[@]}"; do
    timeout $((DRAIN_TIMEOUT + 60)) hey -n "$per" -c "$clients" -t 10 -m POST -T application/json \
      -H "X-API-Key: ${KEY[$label]}" -d "$BODY" "$(url "$p" "$label")" >"$WORK/hey-$label-$p.txt" 2>&1 &
    pids+=($!)
    PIDS+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || die "hey (end to end) failed"; done
  t_fired=$(now_s)
  local acc=0 err=0
  for p in "${ports[@]}"; do
    acc=$((acc + $(hey_status "$WORK/hey-$label-$p.txt" 202)))
    err=$((err + $(hey_errors "$WORK/hey-$label-$p.txt")))
  done
  for ((i = 0; i < DRAIN_TIMEOUT * 10; i++)); do
    c=$(sql "select count(*) from run_history where deployment_id = '${DEP[$label]}' and status in ('completed','failed','timed_out','cancelled')")
    (( c >= acc )) && break
    sleep 0.1
  done
  t_done=$(now_s)
  (( c >= acc )) || die "$label: only $c of $acc runs ended after ${DRAIN_TIMEOUT}s"
  out=$(sql "select count(*) filter (where status = 'completed'), count(*) filter (where status <> 'completed'),
      round(extract(epoch from max(finished_at) - min(created_at))::numeric, 2)
    from run_history where deployment_id = '${DEP[$label]}'")
  IFS='|' read -r ok notok pgsecs <<<"$out"
  split=$(sql "select string_agg(coalesce(node_id, '?') || ': ' || c, ', ' order by node_id)
    from (select node_id, count(*) c from run_history where deployment_id = '${DEP[$label]}' group by 1) s")
  local fire total rate pgrate
  fire=$(awk -v a="$t0" -v b="$t_fired" 'BEGIN {printf "%.2f", b - a}')
  total=$(awk -v a="$t0" -v b="$t_done" 'BEGIN {printf "%.2f", b - a}')
  rate=$(awk -v n="$acc" -v s="$total" 'BEGIN {printf "%.0f", n / s}')
  pgrate=$(awk -v n="$acc" -v s="$pgsecs" 'BEGIN {if (s > 0) printf "%.0f", n / s; else print "n/a"}')
  E2E_RATES[$nodes]+="$rate "
  E2E_ROWS+=("$nodes|$r|$n|$acc|$err|$fire|$total|$rate|$pgsecs|$pgrate|$ok|$notok|$split")
  echo "  $nodes node(s), run $r: $acc x 202 (errors $err) fired in ${fire}s, all ended after ${total}s: $rate completions/s" \
    "(first accept → last finish in PostgreSQL ${pgsecs}s: $pgrate/s); completed $ok, other $notok; by node: $split"
}
echo "$NAME: end to end, 1 node: $E2E_REPEAT x $RUNS triggers (hey -n, $FIRE_CONNS clients), until all ended"
for ((r = 1; r <= E2E_REPEAT; r++)); do e2e 1 "$r"; drain; done

echo "$NAME: starting node 2 on 127.0.0.1:$P2 on node 1's backends ($PG_URL, $REDIS_URL)"
start_node 2 "$P2" FLOWGATE_PG_URL="$PG_URL" FLOWGATE_REDIS_URL="$REDIS_URL"
echo "$NAME: warming node 2 up (${WARMUP}s closed loop on it)"
wrk_trig "$P2" "$WARMUP" "$WORK/wrk-warmup2"
drain
echo "$NAME: closed loop on both nodes at once (one wrk per node, connections split), ${DURATION}s"
before=$(rows_of trig)
wrk_trig "$P1 $P2" "$DURATION" "$WORK/wrk-2n"
after=$(rows_of trig)
drain
f=("$WORK/wrk-2n"-*.txt)
TWO_N=$(s202 "${f[@]}")
TWO_RPS=$(awk -v n="$TWO_N" -v s="$(max_secs "${f[@]}")" 'BEGIN {printf "%.0f", n / s}')
TWO_ERR=$(sother "${f[@]}")
TWO_ROWS=$((after - before))
echo "  2 nodes: $TWO_RPS 202/s ($TWO_N x 202, $TWO_ERR errors, $TWO_ROWS rows), drained in ${DRAIN_S}s"

echo "$NAME: end to end, 2 nodes: $E2E_REPEAT x $RUNS triggers (half to each node), until all ended"
for ((r = 1; r <= E2E_REPEAT; r++)); do e2e 2 "$r"; drain; done

# --------------------------------------------------------------------------------------------------------- JFR ---
JFR_TEXT=""
if [[ -n "$JFR_DIR" ]]; then
  jfr_file="$JFR_DIR/flowgate-async.jfr"
  rm -f "$jfr_file"
  jcmd "${NODE_PID[1]}" JFR.start name=bench-async settings=profile duration="${DURATION}s" filename="$jfr_file" >/dev/null
  wrk_trig "$P1" "$DURATION" "$WORK/wrk-jfr"
  for ((i = 0; i < 100; i++)); do [[ -s "$jfr_file" ]] && break; sleep 0.2; done
  sleep 1
  drain
  top=$(jfr print --events jdk.ExecutionSample --stack-depth 1 "$jfr_file" 2>/dev/null \
    | awk '/stackTrace = \[/ {getline; sub(/^[ \t]+/, ""); sub(/[ \t]+line:.*/, ""); print}' \
    | sort | uniq -c | sort -rn | awk 'NR <= 20')
  JFR_TEXT="node 1 under wrk ($(s202 "$WORK"/wrk-jfr-*.txt) x 202 in ${DURATION}s), $jfr_file, top self frames:"$'\n'"$top"
  echo "$JFR_TEXT"
fi

# ------------------------------------------------------------------------------------------------------ report ---
TABLE_TRIG="| run | 202/s | 202 responses | errors (non-202 + socket) | rows added to run_history | wrk p50 ms | wrk p99 ms | drain afterwards s | CPU µs per 202 (node 1 + its PostgreSQL, Redis; run + drain) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for row in "${TRIG_ROWS[@]}"; do
  IFS='|' read -r r rps n e rows p50 p99 dr cpu <<<"$row"
  TABLE_TRIG+=$'\n'"| $r | $rps | $n | $e | $rows | $p50 | $p99 | $dr | $cpu |"
done
TABLE_TRIG+=$'\n'"| **median (min – max, spread)** | **$T_MED** ($T_MIN – $T_MAX, $(spread "$T_MIN" "$T_MAX" "$T_MED")) | | | | | | | $T_CPU |"
TABLE_TRIG+=$'\n'"| both nodes at once (one wrk each, ${DURATION}s, once) | $TWO_RPS | $TWO_N | $TWO_ERR | $TWO_ROWS | | | | |"
TABLE_E2E="| nodes | run | triggers | 202 | errors | fired in s | all ended after s | **completions/s** | first accept → last finish (PostgreSQL) s | per s | completed | other | runs by node |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for row in "${E2E_ROWS[@]}"; do
  IFS='|' read -r nd r n acc err fire total rate pgs pgr ok notok split <<<"$row"
  TABLE_E2E+=$'\n'"| $nd | $r | $n | $acc | $err | $fire | $total | **$rate** | $pgs | $pgr | $ok | $notok | $split |"
done
# shellcheck disable=SC2086
read -r E1_MED _ _ <<<"$(stats ${E2E_RATES[1]})"
# shellcheck disable=SC2086
read -r E2_MED _ _ <<<"$(stats ${E2E_RATES[2]})"
E_RATIO=$(ratio "$E2_MED" "$E1_MED")
lat_ok=0
[[ "$(le "$H_P99" 10)" == 1 && "$H_ERR" == 0 && "$H_REACHED" == yes ]] && lat_ok=1
TARGET_LINES="- durable 202/s ≥ 5,000 (closed loop, 1 node): median $T_MED → $(verdict "$(ge "$T_MED" 5000)")
- trigger p99 ≤ 10 ms at $HEY_ASKED req/s: $H_P99 ms, errors $H_ERR, rate $H_REACHED → $(verdict "$lat_ok")
- completions/s with 2 nodes ≥ 1.3× 1 node: $E2_MED vs $E1_MED (medians) = ${E_RATIO}× → $(verdict "$(ge "$E_RATIO" 1.3)")"
[[ "$RATE" != 1000 ]] && TARGET_LINES+=$'\n'"- (the latency target is stated at 1000 req/s; this run used --rate $RATE)"

SECTION="## $(date -u '+%Y-%m-%d %H:%M UTC') — async scenario — commit $COMMIT_LINE

- Machine: $(machine_line); load average at the start $LOAD_START, at the end $(cut -d' ' -f1-3 /proc/loadavg)
- JDK: $(java -version 2>&1 | sed -n 2p); JVM flags (both nodes): \`$JVM_FLAGS\`
- flowgate: \`target/flowgate.jar\` (sha256 $(sha256sum "$JAR" | cut -c1-12)…), defaults of conf/flowgate.yaml; node 1
  with its embedded PostgreSQL and redis-server (fresh data dir), node 2 (started only for the 2-node rows) on node 1's
  ($PG_URL, $REDIS_URL); flow api_input → delay ${DELAY_MS} ms → output, \`execution_mode: async\`,
  \`deployment_type: api\`; body \`$BODY\`
- Closed loop: \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s\` on node 1, one ${WARMUP}s warm-up, $REPEAT runs; only 202s
  count (a wrk Lua \`response()\` counter), everything else is an error; after each run the script waits until
  run_history has no queued/running run (\"drain\"), so runs do not overlap with the next measurement
- Fixed rate: \`hey -z ${DURATION}s -c $WORKERS -q $q\` on node 1 (hey's percentiles have 0.1 ms resolution)
- End to end: $RUNS triggers per run fired as fast as \`hey -n -c $FIRE_CONNS\` goes (with 2 nodes half to each, at once),
  then PostgreSQL's run_history polled every 0.1 s until all have ended; completions/s = triggers / (start of firing →
  all ended). Both nodes run on the same 2 cores (and share one redis-server and PostgreSQL): a second node adds
  event loops and workers, not CPU
${NOTE:+- Note: $NOTE
}
Durable async triggers (closed loop):

$TABLE_TRIG

Trigger latency at a fixed rate (node 1):

| asked req/s | achieved req/s | p50 ms | p99 ms | 202 | errors | rate reached |
|---:|---:|---:|---:|---:|---:|---|
| $HEY_ASKED | $H_RPS | $H_P50 | $H_P99 | $H_202 | $H_ERR | $H_REACHED |

End to end (delay ${DELAY_MS} ms flow):

$TABLE_E2E

Targets:

$TARGET_LINES
"
[[ -n "$JFR_TEXT" ]] && SECTION+=$'\nJFR (extra run after the measurements):\n\n```\n'"$JFR_TEXT"$'\n```\n'
echo
echo "$SECTION"
append_results "$SECTION"
