#!/usr/bin/env bash
# A/B of two flowgate jars on this machine: both gateways run at once (each with its own embedded PostgreSQL and
# redis-server), and short wrk runs alternate A, B, A, B, ... per target, so that the machine's drift hits both alike.
# Prints each run and, per target, the medians and B/A of throughput and of CPU time per request (the gateway JVM
# plus its own redis-server and PostgreSQL, from /proc: far steadier than req/s when other work shares the cores). For comparing a change with its baseline on a noisy, shared
# machine; bench/load/run.sh stays the reference measurement (ratios to hello, latency, targets).
#
#   bench/load/ab.sh A.jar B.jar [--duration S] [--rounds N] [--jvm-flags "F"] [--env-a "K=V ..."] [--env-b "K=V ..."]
#
# The same jar twice with --env-b (e.g. "FLOWGATE_HTTP_EVENT_LOOPS=1") compares a configuration with the default.
#
# Every process it starts is stopped on exit (by pid); logs stay in the printed dir on failure.
set -euo pipefail

[[ $# -ge 2 ]] || { echo "usage: bench/load/ab.sh A.jar B.jar [--duration S] [--rounds N] [--jvm-flags F]" >&2; exit 2; }
JAR_A=$(realpath "$1")
JAR_B=$(realpath "$2")
shift 2
DURATION=5
ROUNDS=6
ENV_A=""
ENV_B=""
JVM_FLAGS="-Xms256m -Xmx256m -XX:+UseSerialGC -Dvertx.disableContextTimings=true"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --jvm-flags) JVM_FLAGS=$2; shift 2 ;;
    --env-a) ENV_A=$2; shift 2 ;;
    --env-b) ENV_B=$2; shift 2 ;;
    *) echo "ab.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-ab.XXXXXX")
PIDS=()
LOAD_PID=""
cleanup() {
  local rc=$? pid i f exe
  trap - EXIT INT TERM
  set +e
  [[ -n "$LOAD_PID" ]] && kill -TERM "$LOAD_PID" 2>/dev/null
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${PIDS[@]}"; do
    for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  # Embedded servers whose executable lives under our data dirs, by pid.
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    exe=""
    { IFS= read -r -d '' exe <"$f"; } 2>/dev/null || true
    [[ "$exe" == "$WORK"/* ]] && kill -TERM "$pid" 2>/dev/null
  done
  if ((rc == 0)); then rm -rf "$WORK"; else echo "ab.sh: failed; logs in $WORK" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

SERVER_ID=af86a8a6-40f2-4b92-9f83-c9b3bafb2ccb
SERVER_KEY=sk-fGNTDKVjAOQ-Sag6rkygnZxhpnWerjKEpbS0jg
API_ID=3c9a1f2e-8b7d-4e6a-9c5b-1d2e3f4a5b6c
API_KEY=sk-Fm66pEdDG0F1tbi7G_nH3pWAK4-WpbpsdPxxdg
BODY='{"input_data": {"name": "Ada"}}'
for t in server api; do
  key=$([[ $t == server ]] && echo "$SERVER_KEY" || echo "$API_KEY")
  printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["X-API-Key"] = "%s"\n' \
    "'$BODY'" "$key" >"$WORK/$t.lua"
done

declare -A PORT JPID
read -r -a JVM <<<"$JVM_FLAGS"
cd "$ROOT"
for side in A B; do
  jar=$([[ $side == A ]] && echo "$JAR_A" || echo "$JAR_B")
  PORT[$side]=$((20000 + RANDOM % 40000))
  mkdir -p "$WORK/data-$side"
  read -r -a extra <<<"$([[ $side == A ]] && echo "$ENV_A" || echo "$ENV_B")"
  env "${extra[@]}" FLOWGATE_HTTP_PORT=${PORT[$side]} FLOWGATE_HTTP_HOST=127.0.0.1 FLOWGATE_DATA_DIR="$WORK/data-$side" \
    FLOWGATE_LOGGING_JSON=false FLOWGATE_HTTP_SHUTDOWN_GRACE_SECONDS=2 \
    java "${JVM[@]}" -jar "$jar" >"$WORK/flowgate-$side.log" 2>&1 &
  PIDS+=($!)
  JPID[$side]=$!
done
for side in A B; do
  for ((i = 0; i < 360; i++)); do
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:${PORT[$side]}/health/ready" 2>/dev/null && break
    sleep 0.5
  done
done

url() { # side target
  local id=$([[ $2 == server ]] && echo $SERVER_ID || echo $API_ID)
  echo "http://127.0.0.1:${PORT[$1]}/node/deployment-trigger/$id/"
}

cpu_ticks() { # side -> utime+stime (clock ticks) of its gateway JVM and its embedded PostgreSQL and redis-server
  local f pid exe t=0 st
  for f in /proc/[0-9]*/exe; do
    pid=${f#/proc/}; pid=${pid%/exe}
    exe=$(readlink "$f" 2>/dev/null) || true
    # PostgreSQL and redis-server rewrite their command lines; the executable's path stays.
    if [[ "$pid" == "${JPID[$1]}" || "$exe" == "$WORK/data-$1"/* ]]; then
      st=$(cut -d')' -f2 "/proc/$pid/stat" 2>/dev/null) || continue
      t=$((t + $(awk '{print $12 + $13}' <<<"$st")))
    fi
  done
  echo "$t"
}
wrk_once() { # side target seconds -> "rps errors cpu-us-per-request"
  local out="$WORK/wrk.txt" before after
  before=$(cpu_ticks "$1")
  timeout $(($3 + 60)) wrk -t2 -c64 -d"$3s" --timeout 10s -s "$WORK/$2.lua" "$(url "$1" "$2")" >"$out" 2>&1 &
  LOAD_PID=$!
  wait "$LOAD_PID"
  LOAD_PID=""
  after=$(cpu_ticks "$1")
  awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '/^Requests\/sec:/ {r = $2}
       /requests in/ {q = $1} /Non-2xx or 3xx responses:/ {n += $NF}
       /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10}
       END {printf "%s %d %.0f\n", r, n + 0, (q > 0 ? ticks / hz * 1e6 / q : 0)}' "$out"
}

echo "ab.sh: A=$JAR_A ${ENV_A} B=$JAR_B ${ENV_B}, ${ROUNDS} rounds x ${DURATION}s per side and target; load $(cut -d' ' -f1-3 /proc/loadavg)"
for t in server api; do
  for side in A B; do
    wrk_once "$side" "$t" 10 >/dev/null
  done
done
declare -A RUNS CPU
for ((r = 1; r <= ROUNDS; r++)); do
  for t in server api; do
    # Alternate which side goes first, so neither always follows the other.
    order=$( ((r % 2)) && echo "A B" || echo "B A")
    for side in $order; do
      read -r rps errs cpu <<<"$(wrk_once "$side" "$t" "$DURATION")"
      RUNS[$t$side]+="$rps "
      CPU[$t$side]+="$cpu "
      echo "  round $r $t $side: $rps req/s, errors $errs, CPU $cpu us/request (gateway + its Redis and PostgreSQL)"
    done
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
for t in server api; do
  # shellcheck disable=SC2086
  a=$(median ${RUNS[${t}A]})
  # shellcheck disable=SC2086
  b=$(median ${RUNS[${t}B]})
  echo "$t: A median $a req/s, B median $b req/s, B/A $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", b / a}')"
  # shellcheck disable=SC2086
  a=$(median ${CPU[${t}A]})
  # shellcheck disable=SC2086
  b=$(median ${CPU[${t}B]})
  echo "$t: CPU per request A median $a us, B median $b us, B/A $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", b / a}')"
done
echo "ab.sh: load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
