#!/usr/bin/env bash
# Fast scenario (issue #4 item 9): the reference inference server (`java -jar flowgate.jar reference-inference`)
# called directly, through flowgate Fast Mode, through nginx and through HAProxy (each with a keep-alive upstream and
# an X-API-Key check), in one run, interleaved, all on 127.0.0.1. See bench/README.md ("Fast scenario").
#
#   bench/load/fast.sh [--duration S] [--repeat N] [options below]      (or: run.sh --scenario fast ...)
#
# nginx and HAProxy configs are generated into the temp dir and both run in the foreground as children of this
# script. Appends a dated section to bench/RESULTS.md (or --results FILE). Every process it starts is stopped on exit.
set -euo pipefail

NAME=fast.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=bench/load/lib.sh
source "$ROOT/bench/load/lib.sh"

usage() {
  cat <<'EOF'
usage: bench/load/fast.sh [options]           (also: bench/load/run.sh --scenario fast [options])
  --duration S       seconds per measured wrk and hey run                              [15]
  --warmup S         seconds of the warm-up wrk run per target                         [= --duration]
  --repeat N         closed-loop runs per target, interleaved (median, min-max)        [3]
  --connections C    wrk connections (closed loop)                                     [64]
  --threads T        wrk threads                                                       [2]
  --rate R           total req/s of the fixed-rate latency run (hey)                   [1000]
  --workers W        hey workers at --rate (each at R/W req/s)                         [10]
  --proxy-workers N  nginx worker_processes and HAProxy nbthread                       [nproc]
  --jvm-flags "F"    JVM flags of flowgate
                     [-Xms256m -Xmx256m -XX:+UseSerialGC -Dvertx.disableContextTimings=true]
  --ref-jvm-flags "F" JVM flags of the reference inference server              [-Xms256m -Xmx256m -XX:+UseSerialGC]
  --jfr DIR          after the measurements, one extra closed-loop run through flowgate under JFR;
                     writes DIR/flowgate-fast.jfr and prints the hottest frames
  --results FILE     where to append the results section                               [<repo>/bench/RESULTS.md]
  --source-repo DIR  git checkout the tree was copied from, for the commit line        [<repo>]
  --note TEXT        one line added to the results section
  --keep             keep the temp dir (logs, generated configs) after a successful run
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
PROXY_WORKERS=$(nproc)
JVM_FLAGS="-Xms256m -Xmx256m -XX:+UseSerialGC -Dvertx.disableContextTimings=true"
REF_JVM_FLAGS="-Xms256m -Xmx256m -XX:+UseSerialGC"
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
    --proxy-workers) need_value "$@"; PROXY_WORKERS=$2; shift 2 ;;
    --jvm-flags) need_value "$@"; JVM_FLAGS=$2; shift 2 ;;
    --ref-jvm-flags) need_value "$@"; REF_JVM_FLAGS=$2; shift 2 ;;
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
for v in DURATION WARMUP REPEAT CONNECTIONS THREADS RATE WORKERS PROXY_WORKERS; do
  is_uint "${!v}" || die "--$(tr '[:upper:]_' '[:lower:]-' <<<"$v") must be a positive integer, got '${!v}'"
done
(( CONNECTIONS >= THREADS )) || die "--connections ($CONNECTIONS) must be at least --threads ($THREADS)"
(( RATE >= WORKERS )) || WORKERS=$RATE
[[ -z "$JFR_DIR" ]] || { mkdir -p "$JFR_DIR" && JFR_DIR=$(cd "$JFR_DIR" && pwd); } || die "cannot create $JFR_DIR"
unset FLOWGATE_PG_URL FLOWGATE_REDIS_URL FLOWGATE_REDIS_KEY_PREFIX

need_tools wrk hey nginx haproxy
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
for t in java curl "$NGINX" "$HAPROXY"; do command -v "$t" >/dev/null || die "missing $t"; done
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
ADMIN_TOKEN=${FLOWGATE_ADMIN_TOKEN:-bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')}
(( ${#ADMIN_TOKEN} >= 16 )) || die "FLOWGATE_ADMIN_TOKEN must have at least 16 characters"

REF_PORT=$(free_port)
FG_PORT=$(free_port)
NGINX_PORT=$(free_port)
HAPROXY_PORT=$(free_port)

# ------------------------------------------------------------------------------------- reference + flowgate ---
read -r -a REF_JVM <<<"$REF_JVM_FLAGS"
read -r -a JVM <<<"$JVM_FLAGS"
echo "$NAME: starting the reference inference server on 127.0.0.1:$REF_PORT"
java "${REF_JVM[@]}" -jar "$JAR" reference-inference --port "$REF_PORT" >"$WORK/reference.log" 2>&1 &
REF_PID=$!
PIDS+=("$REF_PID")
echo "$NAME: starting flowgate on 127.0.0.1:$FG_PORT (embedded PostgreSQL and redis-server in $WORK/data)"
mkdir -p "$WORK/data"
DATA_DIRS+=("$WORK/data")
(cd "$ROOT" && exec env FLOWGATE_HTTP_PORT="$FG_PORT" FLOWGATE_HTTP_HOST=127.0.0.1 FLOWGATE_DATA_DIR="$WORK/data" \
  FLOWGATE_LOGGING_JSON=false FLOWGATE_HTTP_SHUTDOWN_GRACE_SECONDS=2 FLOWGATE_ADMIN_TOKEN="$ADMIN_TOKEN" \
  java "${JVM[@]}" -jar "$JAR") >"$WORK/flowgate.log" 2>&1 &
FG_PID=$!
PIDS+=("$FG_PID")
wait_up reference "$REF_PID" "http://127.0.0.1:$REF_PORT/health" 120
wait_up flowgate "$FG_PID" "http://127.0.0.1:$FG_PORT/health/ready" 180

api() { # method path json -> body; dies on non-2xx
  local out code
  out=$(curl -sS --max-time 20 -o - -w '\n%{http_code}' -X "$1" -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: application/json' --data "$3" "http://127.0.0.1:$FG_PORT/api/v1$2") || die "$1 $2 failed"
  code=${out##*$'\n'}
  [[ "$code" == 2* ]] || die "$1 $2: HTTP $code: ${out%$'\n'*}"
  echo "${out%$'\n'*}"
}
json_field() { grep -o "\"$1\":\"[^\"]*\"" | head -1 | cut -d'"' -f4; }
IS_ID=$(api POST /inference-servers "{\"name\":\"bench-reference\",\"protocol\":\"passthrough\",\"predict_path\":\"/predict\",
  \"replicas\":[\"http://127.0.0.1:$REF_PORT\"]}" | json_field id)
[[ -n "$IS_ID" ]] || die "no inference server id"
ans=$(api POST /deployments "{\"name\":\"bench-fast\",\"execution_mode\":\"fast\",\"inference_server_id\":\"$IS_ID\"}")
DEP_ID=$(json_field id <<<"$ans")
API_KEY=$(json_field api_key <<<"$ans")
[[ -n "$DEP_ID" && "$API_KEY" == sk-* ]] || die "fast deployment: unexpected answer $ans"

# ---------------------------------------------------------------------------------------------- nginx, haproxy ---
mkdir -p "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<EOF
# generated by bench/load/fast.sh
worker_processes $PROXY_WORKERS;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  keepalive_requests 100000;
  map \$http_x_api_key \$ok {
    default 0;
    "$API_KEY" 1;
  }
  upstream reference {
    server 127.0.0.1:$REF_PORT;
    keepalive 64;
    keepalive_requests 100000;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location = /predict {
      if (\$ok = 0) { return 401; }
      proxy_pass http://reference;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
cat >"$WORK/haproxy.cfg" <<EOF
# generated by bench/load/fast.sh
global
  nbthread $PROXY_WORKERS
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 30s
frontend fe
  bind 127.0.0.1:$HAPROXY_PORT
  http-request deny deny_status 401 unless { req.hdr(x-api-key) -m str $API_KEY }
  default_backend reference
backend reference
  http-reuse always
  server ref 127.0.0.1:$REF_PORT
EOF
"$NGINX" -t -e stderr -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx-test.log" 2>&1 \
  || { cat "$WORK/nginx-test.log" >&2; die "nginx rejects the generated config"; }
"$HAPROXY" -c -f "$WORK/haproxy.cfg" >"$WORK/haproxy-test.log" 2>&1 \
  || { cat "$WORK/haproxy-test.log" >&2; die "haproxy rejects the generated config"; }
echo "$NAME: starting nginx on 127.0.0.1:$NGINX_PORT and HAProxy on 127.0.0.1:$HAPROXY_PORT ($PROXY_WORKERS workers/threads)"
"$NGINX" -e stderr -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
"$HAPROXY" -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
HAPROXY_PID=$!
PIDS+=("$HAPROXY_PID")

TARGETS=(direct flowgate nginx haproxy)
declare -A URL BODY_OF
URL[direct]="http://127.0.0.1:$REF_PORT/predict"
URL[flowgate]="http://127.0.0.1:$FG_PORT/node/deployment-trigger/$DEP_ID/"
URL[nginx]="http://127.0.0.1:$NGINX_PORT/predict"
URL[haproxy]="http://127.0.0.1:$HAPROXY_PORT/predict"
PLAIN='{"features": [5.1, 3.5, 1.4, 0.2]}'
BODY_OF[direct]=$PLAIN
BODY_OF[flowgate]='{"input_data": {"features": [5.1, 3.5, 1.4, 0.2]}}'
BODY_OF[nginx]=$PLAIN
BODY_OF[haproxy]=$PLAIN
for t in "${TARGETS[@]}"; do
  printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["X-API-Key"] = "%s"\n' \
    "'${BODY_OF[$t]}'" "$API_KEY" >"$WORK/$t.lua"
done

# Every target answers the prediction; the proxies and flowgate refuse a wrong key with 401.
post() { # url body key -> "code body"
  curl -sS --max-time 10 -o - -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' -H "X-API-Key: $3" \
    --data "$2" "$1" 2>/dev/null || echo $'\n000'
}
declare -A PROC_PIDS
PROC_PIDS[direct]=$REF_PID
PROC_PIDS[flowgate]=$FG_PID
PROC_PIDS[nginx]=$NGINX_PID
PROC_PIDS[haproxy]=$HAPROXY_PID
for t in "${TARGETS[@]}"; do
  for ((i = 0; i < 60; i++)); do
    kill -0 "${PROC_PIDS[$t]}" 2>/dev/null || { cat "$WORK"/*"$t"*.log >&2; die "$t exited"; }
    ans=$(post "${URL[$t]}" "${BODY_OF[$t]}" "$API_KEY")
    [[ "${ans##*$'\n'}" == 200 ]] && break
    sleep 0.5
  done
  [[ "${ans##*$'\n'}" == 200 && "$ans" == *'"label":"setosa"'* ]] || die "$t: expected 200 with the prediction, got: $ans"
  if [[ "$t" != direct ]]; then
    bad=$(post "${URL[$t]}" "${BODY_OF[$t]}" "sk-not-the-key")
    [[ "${bad##*$'\n'}" == 401 ]] || die "$t: expected 401 for a wrong key, got: $bad"
  fi
  echo "$NAME: verified $t: 200 ${ans:0:80}…$([[ $t != direct ]] && echo ", wrong key 401")"
done

# ---------------------------------------------------------------------------------------------------- load ---
wrk_run() { # target, seconds, output file
  run_load "$3" timeout $(($2 + 60)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2s" --timeout 10s --latency \
    -s "$WORK/$1.lua" "${URL[$1]}" || { cat "$3" >&2; die "wrk against $1 failed"; }
}
declare -A RSS_MAX
note_rss() { # after a target's run: the largest RSS seen of the process that answered (and its children)
  local t=$1 kb
  kb=$(rss_kb "${PROC_PIDS[$t]}")
  (( kb > ${RSS_MAX[$t]:-0} )) && RSS_MAX[$t]=$kb
  return 0
}
echo "$NAME: closed loop (wrk -t$THREADS -c$CONNECTIONS): warm-up ${WARMUP}s per target, then $REPEAT x ${DURATION}s interleaved"
for t in "${TARGETS[@]}"; do
  wrk_run "$t" "$WARMUP" "$WORK/wrk-$t-warmup.txt"
  echo "  warm-up $t: $(wrk_rps "$WORK/wrk-$t-warmup.txt") req/s"
  note_rss "$t"
done
declare -A RPS ERRS REQS WP50 WP99 CPU UCPU
for ((r = 1; r <= REPEAT; r++)); do
  # Rotate the order every round, so no target always runs after the same one.
  order=("${TARGETS[@]:$(( (r - 1) % 4 ))}" "${TARGETS[@]:0:$(( (r - 1) % 4 ))}")
  for t in "${order[@]}"; do
    f="$WORK/wrk-$t-$r.txt"
    dir=()
    [[ $t == flowgate ]] && dir=(--dir "$WORK/data")
    c0=$(cpu_ticks "${PROC_PIDS[$t]}" "${dir[@]}")
    u0=$(cpu_ticks "$REF_PID")
    wrk_run "$t" "$DURATION" "$f"
    c1=$(cpu_ticks "${PROC_PIDS[$t]}" "${dir[@]}")
    u1=$(cpu_ticks "$REF_PID")
    note_rss "$t"
    CPU[$t]+="$(us_per $((c1 - c0)) "$(wrk_total "$f")") "
    UCPU[$t]+="$(us_per $((u1 - u0)) "$(wrk_total "$f")") "
    RPS[$t]+="$(wrk_rps "$f") "
    WP50[$t]+="$(wrk_pct_ms "$f" 50) "
    WP99[$t]+="$(wrk_pct_ms "$f" 99) "
    ERRS[$t]=$(( ${ERRS[$t]:-0} + $(wrk_errors "$f") ))
    REQS[$t]=$(( ${REQS[$t]:-0} + $(wrk_total "$f") ))
    echo "  run $r $t: $(wrk_rps "$f") req/s, errors $(wrk_errors "$f"), p50 $(wrk_pct_ms "$f" 50) ms"
  done
done
declare -A MED MIN MAX WP50M WP99M CPUM UCPUM
for t in "${TARGETS[@]}"; do
  # shellcheck disable=SC2086
  read -r CPUM[$t] _ _ <<<"$(stats ${CPU[$t]})"
  # shellcheck disable=SC2086
  read -r UCPUM[$t] _ _ <<<"$(stats ${UCPU[$t]})"
  # shellcheck disable=SC2086
  read -r MED[$t] MIN[$t] MAX[$t] <<<"$(stats ${RPS[$t]})"
  # shellcheck disable=SC2086
  read -r WP50M[$t] _ _ <<<"$(stats ${WP50[$t]})"
  # shellcheck disable=SC2086
  read -r WP99M[$t] _ _ <<<"$(stats ${WP99[$t]})"
done

q=$(( (RATE + WORKERS / 2) / WORKERS ))
HEY_ASKED=$((q * WORKERS))
declare -A HRPS HP50 HP99 HERR HREACH
echo "$NAME: fixed rate: hey -z ${DURATION}s -c $WORKERS -q $q ($HEY_ASKED req/s) per target"
for t in "${TARGETS[@]}"; do
  f="$WORK/hey-$t.txt"
  run_load "$f" timeout $((DURATION + 60)) hey -z "${DURATION}s" -q "$q" -c "$WORKERS" -t 10 -m POST \
    -T application/json -H "X-API-Key: $API_KEY" -d "${BODY_OF[$t]}" "${URL[$t]}" \
    || { cat "$f" >&2; die "hey against $t failed"; }
  HRPS[$t]=$(hey_rps "$f"); HP50[$t]=$(hey_pct "$f" 50); HP99[$t]=$(hey_pct "$f" 99); HERR[$t]=$(hey_errors "$f")
  HREACH[$t]=yes
  (( ${HRPS[$t]} * 100 >= HEY_ASKED * 95 )) || HREACH[$t]="NOT reached"
  echo "  $t: ${HRPS[$t]} req/s, p50 ${HP50[$t]} ms, p99 ${HP99[$t]} ms, errors ${HERR[$t]}"
done

JFR_TEXT=""
if [[ -n "$JFR_DIR" ]]; then
  jfr_file="$JFR_DIR/flowgate-fast.jfr"
  rm -f "$jfr_file"
  jcmd "$FG_PID" JFR.start name=bench-fast settings=profile duration="${DURATION}s" filename="$jfr_file" >/dev/null
  wrk_run flowgate "$DURATION" "$WORK/wrk-flowgate-jfr.txt"
  for ((i = 0; i < 100; i++)); do [[ -s "$jfr_file" ]] && break; sleep 0.2; done
  sleep 1
  top=$(jfr print --events jdk.ExecutionSample --stack-depth 1 "$jfr_file" 2>/dev/null \
    | awk '/stackTrace = \[/ {getline; sub(/^[ \t]+/, ""); sub(/[ \t]+line:.*/, ""); print}' \
    | sort | uniq -c | sort -rn | awk 'NR <= 20')
  JFR_TEXT="flowgate fast under wrk ($(wrk_rps "$WORK/wrk-flowgate-jfr.txt") req/s), $jfr_file, top self frames:"$'\n'"$top"
  echo "$JFR_TEXT"
fi

# ------------------------------------------------------------------------------------------------------ report ---
mb() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }
sub_ms() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "" || b == "") print "n/a"; else printf "%.2f", a - b}'; }
TABLE_MAX="| target | median req/s | min – max req/s | spread | requests | errors (non-2xx + socket) | ratio to direct | ratio to nginx | wrk p50 ms | wrk p99 ms | CPU µs/request (target) | CPU µs/request (upstream) | max RSS MB |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for t in "${TARGETS[@]}"; do
  TABLE_MAX+=$'\n'"| $t | $(printf '%.0f' "${MED[$t]}") | $(printf '%.0f' "${MIN[$t]}") – $(printf '%.0f' "${MAX[$t]}") \
| $(spread "${MIN[$t]}" "${MAX[$t]}" "${MED[$t]}") | ${REQS[$t]} | ${ERRS[$t]} | $(ratio "${MED[$t]}" "${MED[direct]}") \
| $(ratio "${MED[$t]}" "${MED[nginx]}") | ${WP50M[$t]} | ${WP99M[$t]} | $([[ $t == direct ]] && echo "—" || echo "${CPUM[$t]}") \
| ${UCPUM[$t]} | $(mb "${RSS_MAX[$t]}") |"
done
TABLE_LAT="| target | asked req/s | achieved req/s | p50 ms | p99 ms | added p50 ms (− direct) | added p50 / nginx's | errors | rate reached |
|---|---:|---:|---:|---:|---:|---:|---:|---|"
ADD_NGINX=$(sub_ms "${HP50[nginx]}" "${HP50[direct]}")
for t in "${TARGETS[@]}"; do
  add=$(sub_ms "${HP50[$t]}" "${HP50[direct]}")
  [[ $t == direct ]] && add="—"
  TABLE_LAT+=$'\n'"| $t | $HEY_ASKED | ${HRPS[$t]} | ${HP50[$t]} | ${HP99[$t]} | $add | $([[ $t == direct ]] && echo "—" || ratio "$add" "$ADD_NGINX") | ${HERR[$t]} | ${HREACH[$t]} |"
done
R_FG_NGINX=$(ratio "${MED[flowgate]}" "${MED[nginx]}")
ADD_FG=$(sub_ms "${HP50[flowgate]}" "${HP50[direct]}")
# Added p50 within 1.25x nginx's; on hey's 0.1 ms grid, an added p50 of at most 0.1 ms counts as within.
LAT_OK=$(awk -v f="$ADD_FG" -v n="$ADD_NGINX" 'BEGIN {print (f != "n/a" && (f <= 1.25 * n || f <= 0.1)) ? 1 : 0}')
ADD_FG_W=$(sub_ms "${WP50M[flowgate]}" "${WP50M[direct]}")
ADD_NG_W=$(sub_ms "${WP50M[nginx]}" "${WP50M[direct]}")
TARGET_LINES="- flowgate throughput ≥ 0.8× nginx's (goal ≥ 1.0×): ${R_FG_NGINX}× → $(verdict "$(ge "$R_FG_NGINX" 0.8)") (goal $(verdict "$(ge "$R_FG_NGINX" 1.0)"))
- flowgate added p50 at $HEY_ASKED req/s within 1.25× nginx's (hey, 0.1 ms grid): $ADD_FG ms vs nginx $ADD_NGINX ms → $(verdict "$LAT_OK")
  (closed loop, wrk's µs percentiles: flowgate adds $ADD_FG_W ms to direct's p50, nginx $ADD_NG_W ms)
- CPU per request (the proxy's own process tree, closed loop): flowgate ${CPUM[flowgate]} µs, nginx ${CPUM[nginx]} µs, \
HAProxy ${CPUM[haproxy]} µs (flowgate/nginx $(ratio "${CPUM[flowgate]}" "${CPUM[nginx]}")×)
- errors: direct ${ERRS[direct]}, flowgate ${ERRS[flowgate]}, nginx ${ERRS[nginx]}, haproxy ${ERRS[haproxy]} (closed loop); \
${HERR[direct]}, ${HERR[flowgate]}, ${HERR[nginx]}, ${HERR[haproxy]} (fixed rate)"

SECTION="## $(date -u '+%Y-%m-%d %H:%M UTC') — fast scenario — commit $COMMIT_LINE

- Machine: $(machine_line); load average at the start $LOAD_START, at the end $(cut -d' ' -f1-3 /proc/loadavg)
- JDK: $(java -version 2>&1 | sed -n 2p); flowgate JVM flags \`$JVM_FLAGS\`; reference server \`$REF_JVM_FLAGS\`
- $($NGINX -v 2>&1 | sed 's/^nginx version: //'), \`worker_processes $PROXY_WORKERS\`; HAProxy $($HAPROXY -v | awk 'NR == 1 {print $3}'),
  \`nbthread $PROXY_WORKERS\`; flowgate \`target/flowgate.jar\` (sha256 $(sha256sum "$JAR" | cut -c1-12)…), defaults of
  conf/flowgate.yaml (one event loop per core), embedded backends, fast deployment on a passthrough inference server
- Upstream: \`flowgate.jar reference-inference\` (iris), \`POST /predict\` \`$PLAIN\`; flowgate gets
  \`${BODY_OF[flowgate]}\` and answers its envelope; nginx and HAProxy check X-API-Key (401 otherwise) and keep 64 /
  reusable keep-alive connections to the upstream
- Closed loop: \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s\`, one ${WARMUP}s warm-up per target, then $REPEAT rounds
  interleaved (order rotated each round); fixed rate: \`hey -z ${DURATION}s -c $WORKERS -q $q\` per target (0.1 ms grid)
- CPU µs/request: utime + stime from /proc of the target's process tree (flowgate: its JVM plus its embedded
  PostgreSQL and redis-server; nginx: master + workers) and of the upstream, over each measured wrk run, divided by
  wrk's request count (median of the runs): steadier than req/s when other work shares the machine
- RSS: the largest VmRSS seen after a run, of the answering process and its children (nginx master + workers;
  flowgate's JVM only: its embedded PostgreSQL and redis-server are not on the fast path; direct = the reference JVM)
${NOTE:+- Note: $NOTE
}
Max throughput (closed loop):

$TABLE_MAX

Latency at a fixed rate:

$TABLE_LAT

Targets:

$TARGET_LINES
"
[[ -n "$JFR_TEXT" ]] && SECTION+=$'\nJFR (extra run after the measurements):\n\n```\n'"$JFR_TEXT"$'\n```\n'
echo
echo "$SECTION"
append_results "$SECTION"
