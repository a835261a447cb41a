# Shared helpers of bench/run.sh and its scenarios (sourced, not run): processes we start and their cleanup, tools,
# ports, load runs with CPU and RSS accounting, parsing, statistics and the per-scenario table.
# shellcheck shell=bash

say() { echo "run.sh: $*"; }
die() {
  echo "run.sh: $*" >&2
  exit 2
}

is_uint() { [[ "$1" =~ ^[0-9]+$ ]] && (( 10#$1 > 0 )); }

# ------------------------------------------------------------------------------------------------------ processes ---
PIDS=()          # long-running processes we started, in start order (stopped in reverse)
LOAD_PID=""      # the load generator running now
DATA_DIRS=()     # embedded PostgreSQL/redis-server executables live under these (leftovers stopped by pid)
CLEANUPS=()      # functions run at exit after every process is stopped (drop a database, delete Redis keys)

stop_pid() { # pid, grace seconds: TERM, wait, KILL
  local pid=$1 grace=$2 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  echo "run.sh: pid $pid did not stop in ${grace}s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

exe_of() { # pid -> its executable's path: /proc/<pid>/exe, else argv[0] (PostgreSQL rewrites its argv into a title,
  # "postgres: postgres postgres 127.0.0.1(…) idle", so argv[0] alone misses its backends)
  local exe=""
  exe=$(readlink "/proc/$1/exe" 2>/dev/null) || exe=""
  [[ -n "$exe" ]] || { IFS= read -r -d '' exe <"/proc/$1/cmdline"; } 2>/dev/null || true
  echo "$exe"
}

dir_pids() { # dir -> pids of processes whose executable lives under dir: the embedded PostgreSQL (its postmaster and
  # every backend), which daemonizes (pg_ctl) and so is no descendant of the JVM, and redis-server
  local f pid exe
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    exe=$(exe_of "$pid")
    [[ -n "$exe" && "$exe" == "$1"/* ]] && echo "$pid"
  done
  return 0
}

# Stops every process this run started (reverse order), then embedded servers left behind under our data dirs.
stop_started() {
  local i d pid
  [[ -n "$LOAD_PID" ]] && { kill -TERM "$LOAD_PID" 2>/dev/null; wait "$LOAD_PID" 2>/dev/null || true; LOAD_PID=""; }
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    stop_pid "${PIDS[$i]}" 30
  done
  PIDS=()
  for d in "${DATA_DIRS[@]}"; do
    [[ -n "$d" && -d "$d" ]] || continue
    for pid in $(dir_pids "$d"); do
      echo "run.sh: stopping leftover $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80) (pid $pid)" >&2
      stop_pid "$pid" 5
    done
  done
  DATA_DIRS=()
}

cleanup() {
  local rc=$? f
  trap - EXIT INT TERM
  set +e
  stop_started
  for f in "${CLEANUPS[@]}"; do "$f"; done
  if [[ -n "${WORK:-}" && -d "$WORK" ]]; then
    if (( rc != 0 )) || [[ "${KEEP_WORK:-false}" == true ]]; then
      echo "run.sh: exit $rc; logs kept in $WORK (the tables of the scenarios that finished: $WORK/report.md)" >&2
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$rc"
}

# --------------------------------------------------------------------------------------------------------- tools ---
# Debian package names; installed with apt-get when missing and root (waiting for another apt-get's lock), else stop.
need_tools() { # tool[=package] ...
  local missing=() pkgs=() spec t p
  for spec in "$@"; do
    t=${spec%%=*}; p=${spec#*=}
    command -v "$t" >/dev/null || [[ -x "/usr/sbin/$t" ]] || { missing+=("$t"); pkgs+=("$p"); }
  done
  (( ${#missing[@]} == 0 )) && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    say "installing ${pkgs[*]} with apt-get (for ${missing[*]})" >&2
    { timeout 900 apt-get install -y -q -o DPkg::Lock::Timeout=300 "${pkgs[@]}" >"$WORK/apt.log" 2>&1 \
      || { timeout 900 apt-get -o DPkg::Lock::Timeout=300 update -q >>"$WORK/apt.log" 2>&1 \
        && timeout 900 apt-get install -y -q -o DPkg::Lock::Timeout=300 "${pkgs[@]}" >>"$WORK/apt.log" 2>&1; }; } \
      || { tail -n 5 "$WORK/apt.log" >&2; die "missing ${missing[*]} and 'apt-get install ${pkgs[*]}' failed"; }
    for t in "${missing[@]}"; do
      command -v "$t" >/dev/null || [[ -x "/usr/sbin/$t" ]] || die "apt-get installed ${pkgs[*]} but $t is still missing"
    done
  else
    die "missing ${missing[*]}: install them (Debian: sudo apt-get install -y ${pkgs[*]}) or run as root"
  fi
}
tool_path() { command -v "$1" || echo "/usr/sbin/$1"; }

free_port() { # a port nothing listens on now (checked by connecting), not handed out before in this run
  local p i
  for ((i = 0; i < 200; i++)); do
    # Below the kernel's ephemeral range (32768 and up here): the embedded PostgreSQL and Redis, and every outgoing
    # connection, take their ports from that range, and one of them took a port chosen here before flowgate bound it.
    p=$((12000 + RANDOM % 20000))
    [[ " ${USED_PORTS:-} " == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      USED_PORTS="${USED_PORTS:-} $p"
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

wait_up() { # name (log $WORK/<name>.log), pid, url, seconds
  local name=$1 pid=$2 url=$3 secs=$4 i
  for ((i = 0; i < secs * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$WORK/$name.log" >&2; die "$name exited during start"; }
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  tail -n 30 "$WORK/$name.log" >&2
  die "$name not ready at $url after ${secs}s"
}

# ---------------------------------------------------------------------------------------------- what we start ---
# flowgate with its defaults on 127.0.0.1:port; embedded backends in data dir unless FLOWGATE_PG_URL/REDIS_URL are
# among the extra env. Sets STARTED_PID. Does not wait.
FG_JVM_EXTRA=() # JVM options after FG_JVM (so they override conf/jvm.options), for one start_flowgate
start_flowgate() { # name port data-dir [VAR=value ...]
  local name=$1 port=$2 data=$3
  shift 3
  mkdir -p "$data"
  DATA_DIRS+=("$data")
  (cd "$ROOT" && exec env "$@" FLOWGATE_HTTP_PORT="$port" FLOWGATE_HTTP_HOST=127.0.0.1 FLOWGATE_DATA_DIR="$data" \
    FLOWGATE_LOGGING_JSON=false FLOWGATE_HTTP_SHUTDOWN_GRACE_SECONDS=2 FLOWGATE_ADMIN_TOKEN="$ADMIN_TOKEN" \
    java "${FG_JVM[@]}" "${FG_JVM_EXTRA[@]}" -jar "$JAR") >"$WORK/$name.log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}

start_reference() { # name port -> STARTED_PID; the reference inference server (iris, passthrough /predict)
  java "${REF_JVM[@]}" -jar "$JAR" reference-inference --port "$2" >"$WORK/$1.log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}

start_hello() { # name port -> STARTED_PID; bench/Hello.java, compiled once into $WORK/classes, flowgate's JVM flags
  java "${FG_JVM[@]}" -cp "$WORK/classes:$JAR" Hello --port "$2" >"$WORK/$1.log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}

control_api() { # port method path [json] -> body; dies on non-2xx
  local out code
  out=$(curl -sS --max-time 20 -o - -w '\n%{http_code}' -X "$2" -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: application/json' ${4:+--data "$4"} "http://127.0.0.1:$1/api/v1$3") || die "$2 $3 failed"
  code=${out##*$'\n'}
  [[ "$code" == 2* ]] || die "$2 $3: HTTP $code: ${out%$'\n'*}"
  echo "${out%$'\n'*}"
}
json_field() { grep -o "\"$1\":\"[^\"]*\"" | head -1 | cut -d'"' -f4; }

post() { # url body key -> "body\ncode"
  curl -sS --max-time 10 -o - -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
    ${3:+-H "X-API-Key: $3"} --data "$2" "$1" 2>/dev/null || echo $'\n000'
}

# ------------------------------------------------------------------------------------------------ the targets ---
# A target is a name with: T_URLS (space-separated; several = load split over them), T_BODY, T_KEY, T_PIDS (its
# process roots: CPU and RSS are read from them and their descendants), T_DIR (data dir whose embedded PostgreSQL and
# redis-server count towards its CPU, not its RSS).
declare -A T_URLS T_BODY T_KEY T_PIDS T_DIR
add_target() { # name "urls" body key "pids" [data-dir]
  T_URLS[$1]=$2; T_BODY[$1]=$3; T_KEY[$1]=$4; T_PIDS[$1]=$5; T_DIR[$1]=${6:-}
  {
    echo 'wrk.method = "POST"'
    echo "wrk.body = '$3'"
    echo 'wrk.headers["Content-Type"] = "application/json"'
    [[ -n "$4" ]] && echo "wrk.headers[\"X-API-Key\"] = \"$4\""
    # Percentiles in microseconds, printed once at the end (a done() hook does not slow wrk down, response() would).
    echo 'function done(summary, latency, requests)'
    echo '  io.write(string.format("PCT %d %d %d %d\n", latency:percentile(50), latency:percentile(99),'
    echo '    latency:percentile(99.9), latency.max))'
    echo 'end'
  } >"$WORK/$1.lua"
}

tree_pids() { # pids... -> them and all their descendants
  local all=("$@") p c i=0
  while (( i < ${#all[@]} )); do
    p=${all[$i]}
    for c in $(cat "/proc/$p/task/"*/children 2>/dev/null); do all+=("$c"); done
    i=$((i + 1))
  done
  echo "${all[@]}"
}
cpu_ticks() { # target -> "pid ticks" lines: utime + stime (clock ticks) of its process tree and of its data dir's
  # servers, each once. Per process, so that a run's CPU is the sum of per-process differences (cpu_delta): a sum over
  # whatever processes exist came out negative when a PostgreSQL backend ended during the run.
  local t=$1 p st
  # shellcheck disable=SC2086
  for p in $( { tree_pids ${T_PIDS[$t]} | tr ' ' '\n'; [[ -z "${T_DIR[$t]}" ]] || dir_pids "${T_DIR[$t]}"; } | sort -un); do
    st=$(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null) || continue
    echo "$p $(awk '{print $12 + $13}' <<<"$st")"
  done
}
cpu_delta() { # "pid ticks" lines before, after -> ticks used in between by the processes alive at the end (a process
  # that started meanwhile counts whole; one that ended meanwhile is missed: a slight undercount, never negative)
  awk 'NR == FNR {before[$1] = $2; next} {d += $2 - (($1 in before) ? before[$1] : 0)} END {print d + 0}' \
    <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}
rss_kb() { # target -> summed VmRSS (kB) of its process tree, without the embedded servers of its data dir
  local t=$1 p exe sum=0 kb
  # shellcheck disable=SC2086
  for p in $(tree_pids ${T_PIDS[$t]}); do
    exe=$(exe_of "$p")
    [[ -n "${T_DIR[$t]}" && "$exe" == "${T_DIR[$t]}"/* ]] && continue
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
    sum=$((sum + ${kb:-0}))
  done
  echo "$sum"
}
us_per() { # ticks, count -> microseconds of CPU per item
  awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {if (n > 0) printf "%.0f", t / hz * 1e6 / n; else print "n/a"}'
}

# Runs a load command in the background while sampling the target's RSS every 0.5 s; a signal stops the script at
# once (bash defers traps while a foreground child runs). Sets M_TICKS (CPU over the run) and M_RSS (largest, kB).
measure() { # target output-file command...
  local t=$1 out=$2 c0 rss
  shift 2
  c0=$(cpu_ticks "$t")
  M_RSS=$(rss_kb "$t")
  "$@" >"$out" 2>&1 &
  LOAD_PID=$!
  while kill -0 "$LOAD_PID" 2>/dev/null; do
    sleep 0.5
    rss=$(rss_kb "$t")
    (( rss > M_RSS )) && M_RSS=$rss
  done
  local rc=0
  wait "$LOAD_PID" || rc=$?
  LOAD_PID=""
  M_TICKS=$(cpu_delta "$c0" "$(cpu_ticks "$t")")
  return "$rc"
}

# wrk against each of the target's URLs at once (connections and threads split), for secs; one file per URL.
wrk_cmd() { # target secs out-prefix
  local t=$1 secs=$2 prefix=$3 urls u n c th pids=() rc=0
  read -r -a urls <<<"${T_URLS[$t]}"
  n=${#urls[@]}
  c=$((CONNECTIONS / n)); th=$((THREADS / n)); (( th >= 1 )) || th=1
  for u in "${urls[@]}"; do
    timeout $((secs + 60)) wrk -t"$th" -c"$c" -d"${secs}s" --timeout 10s -s "$WORK/$t.lua" "$u" \
      >"$prefix-$((${#pids[@]} + 1)).wrk" 2>&1 &
    pids+=($!)
  done
  for u in "${pids[@]}"; do wait "$u" || rc=$?; done
  return "$rc"
}
wrk_sum() { # files... -> "requests errors secs p50us p99us p999us" (percentiles of the first file: per-URL split)
  awk '/requests in/ {n += $1; s = $4; sub(/,$/, "", s); f = 1; if (s ~ /m$/) f = 60; sub(/[a-z]+$/, "", s)
         if (s * f > secs) secs = s * f}
       /Non-2xx or 3xx responses:/ {e += $NF}
       /Socket errors:/ {gsub(",", ""); e += $4 + $6 + $8 + $10}
       /^PCT / && !p {p = $2 " " $3 " " $4; p = 1; p50 = $2; p99 = $3; p999 = $4}
       END {printf "%d %d %s %s %s %s\n", n, e, secs, p50, p99, p999}' "$@"
}

loadgen_cmd() { # target rate secs -> runs bench/LoadGen.java over the target's URLs (stdout: its RESULT line)
  local t=$1 rate=$2 secs=$3 args=() u
  for u in ${T_URLS[$t]}; do args+=(--url "$u"); done
  [[ -n "${T_KEY[$t]}" ]] && args+=(--header "X-API-Key:${T_KEY[$t]}")
  # C1 only: with C2 the generator's own compilations stalled it for 0.3-1 s inside the recorded window (p99 of a
  # bare /hello at 9,000 req/s: 600-900 ms with C2, 0.5 ms with C1), which the open model counts as latency.
  timeout $((secs + 90)) java -Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$WORK/classes:$JAR" \
    LoadGen "${args[@]}" \
    --header "Content-Type:application/json" --body "${T_BODY[$t]}" --rate "$rate" --duration "$secs" \
    --warmup "$FIXED_WARMUP" --threads "$THREADS" --connections "$CONNECTIONS"
}
lg_field() { sed -n "s/^RESULT.* $2=\([^ ]*\).*/\1/p" "$1" | head -1; }

# ------------------------------------------------------------------------------------------------ measurements ---
# Per target, space-separated values, one per repeat: C_* closed loop, F_* fixed rate.
declare -A C_RPS C_P50 C_P99 C_P999 C_ERR C_REQ C_CPU C_RSS F_RPS F_P50 F_P99 F_P999 F_ERR F_REQ F_CPU F_RSS RATE_OF
HOOK_AFTER_RUN=""      # a function a scenario may set: HOOK_AFTER_RUN target closed|fixed output, after each run
LOAD_CLOSED=wrk_cmd    # the measured commands; a scenario may wrap them (async: the load, then the drain of its runs)
LOAD_FIXED=loadgen_cmd

# One closed-loop (wrk) run of a target, recorded. kind: warmup (not recorded) or run.
closed_run() { # target secs label
  local t=$1 secs=$2 label=$3 prefix="$WORK/$3-$1" req err s p50 p99 p999 rps
  measure "$t" "$prefix.out" "$LOAD_CLOSED" "$t" "$secs" "$prefix" || { cat "$prefix".out "$prefix"-*.wrk >&2; die "the closed-loop load against $t failed"; }
  read -r req err s p50 p99 p999 <<<"$(wrk_sum "$prefix"-*.wrk)"
  rps=$(awk -v n="$((req - err))" -v s="$s" 'BEGIN {printf "%.0f", (s > 0) ? n / s : 0}') # answered without error
  [[ -n "$HOOK_AFTER_RUN" ]] && "$HOOK_AFTER_RUN" "$t" closed "$prefix"
  if [[ "$label" == run* ]]; then
    C_RPS[$t]+="$rps "; C_ERR[$t]+="$err "; C_REQ[$t]+="$req "
    C_P50[$t]+="$(us_ms "$p50") "; C_P99[$t]+="$(us_ms "$p99") "; C_P999[$t]+="$(us_ms "$p999") "
    C_CPU[$t]+="$(us_per "$M_TICKS" "$req") "; C_RSS[$t]+="$M_RSS "
  fi
  say "  $label $t: $rps req/s, p50 $(us_ms "$p50") p99 $(us_ms "$p99") p99.9 $(us_ms "$p999") ms, errors $err," \
    "CPU $(us_per "$M_TICKS" "$req") µs/req, RSS $((M_RSS / 1024)) MB"
}
us_ms() { awk -v u="$1" 'BEGIN {if (u == "") print "n/a"; else printf "%.3f", u / 1000}'; }

fixed_run() { # target rate secs label
  local t=$1 rate=$2 secs=$3 label=$4 f="$WORK/$4-$1.lg" n
  measure "$t" "$f" "$LOAD_FIXED" "$t" "$rate" "$secs" || { cat "$f" >&2; die "the fixed-rate load against $t failed"; }
  grep -q '^RESULT' "$f" || { cat "$f" >&2; die "no result from the fixed-rate load against $t"; }
  [[ -n "$HOOK_AFTER_RUN" ]] && "$HOOK_AFTER_RUN" "$t" fixed "$f"
  n=$(lg_field "$f" answered)
  F_RPS[$t]+="$(lg_field "$f" achieved_rps) "; F_ERR[$t]+="$(lg_field "$f" errors) "; F_REQ[$t]+="$n "
  F_P50[$t]+="$(lg_field "$f" p50_ms) "; F_P99[$t]+="$(lg_field "$f" p99_ms) "; F_P999[$t]+="$(lg_field "$f" p999_ms) "
  F_CPU[$t]+="$(us_per "$M_TICKS" "$n") "; F_RSS[$t]+="$M_RSS "
  say "  $label $t at $rate/s: achieved $(lg_field "$f" achieved_rps)/s, p50 $(lg_field "$f" p50_ms) p99" \
    "$(lg_field "$f" p99_ms) p99.9 $(lg_field "$f" p999_ms) ms, errors $(lg_field "$f" errors)" \
    "($(lg_field "$f" statuses))"
}

# The standard measurement of a scenario: a warm-up per target, REPEAT closed-loop rounds (order rotated each round
# so drift hits every target alike), then REPEAT fixed-rate rounds at one rate for all: 50% of the lowest median
# maximum among them (or --rate), so their latencies compare.
measure_targets() { # targets...
  local targets=("$@") n=$# r t order rate
  say "closed loop (wrk -t$THREADS -c$CONNECTIONS): ${WARMUP}s warm-up per target, then $REPEAT x ${DURATION}s, interleaved"
  for t in "${targets[@]}"; do closed_run "$t" "$WARMUP" warmup; done
  for ((r = 1; r <= REPEAT; r++)); do
    order=("${targets[@]:$(( (r - 1) % n ))}" "${targets[@]:0:$(( (r - 1) % n ))}")
    for t in "${order[@]}"; do closed_run "$t" "$DURATION" "run$r"; done
  done
  rate=$FIXED_RATE
  if [[ -z "$rate" ]]; then
    rate=$(for t in "${targets[@]}"; do med ${C_RPS[$t]}; done | sort -g | head -1)
    rate=$(awk -v m="$rate" 'BEGIN {r = int(m / 2); print (r < 1) ? 1 : r}')
  fi
  say "fixed rate (bench/LoadGen.java, open model): $rate req/s for every target, $REPEAT x ${DURATION}s (+${FIXED_WARMUP}s unrecorded)"
  for ((r = 1; r <= REPEAT; r++)); do
    order=("${targets[@]:$(( (r - 1) % n ))}" "${targets[@]:0:$(( (r - 1) % n ))}")
    for t in "${order[@]}"; do RATE_OF[$t]=$rate; fixed_run "$t" "$rate" "$DURATION" "fixed$r"; done
  done
}

# ------------------------------------------------------------------------------------------------- statistics ---
med() { printf '%s\n' "$@" | grep -v '^n/a$' | sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "n/a"; else
  print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
lo() { printf '%s\n' "$@" | grep -v '^n/a$' | sort -g | head -1; }
hi() { printf '%s\n' "$@" | grep -v '^n/a$' | sort -g | tail -1; }
sum() { printf '%s\n' "$@" | awk '{s += $1} END {print s + 0}'; }
spread() { # values... -> (max - min) / median in %
  awk -v lo="$(lo "$@")" -v hi="$(hi "$@")" -v m="$(med "$@")" 'BEGIN {if (m > 0) printf "%.0f%%", 100 * (hi - lo) / m; else print "n/a"}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a != "" && a != "n/a" && b + 0 > 0) printf "%.2f", a / b; else print "n/a"}'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN {print (a != "n/a" && a != "" && a + 0 >= b + 0) ? 1 : 0}'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN {print (a != "n/a" && a != "" && a + 0 <= b + 0) ? 1 : 0}'; }
verdict() { [[ "$1" == 1 ]] && echo "met" || echo "MISSED"; }
fmt_rps() { printf '%.0f' "$1" 2>/dev/null || echo "$1"; }
cell() { # values... -> "median (min–max)"; one value: itself
  local m
  m=$(med "$@")
  [[ "$m" == n/a ]] && { echo "n/a"; return; }
  (( $# > 1 )) && echo "$m ($(lo "$@")–$(hi "$@"))" || echo "$m"
}
mb() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }

# The scenario's table: per target a closed-loop row and a fixed-rate row. ratio-of-rps to the baseline target on
# closed-loop rows, ratio of p50 on fixed-rate rows.
load_table() { # baseline targets...
  local base=$1 t
  shift
  echo "| target | load | req/s median (min–max) | spread | × $base | p50 ms | p99 ms | p99.9 ms | errors | CPU µs/req | RSS MB (max) |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for t in "$@"; do
    # shellcheck disable=SC2086
    echo "| $t | closed loop, max | $(cell ${C_RPS[$t]}) | $(spread ${C_RPS[$t]}) | $(ratio "$(med ${C_RPS[$t]})" \
"$(med ${C_RPS[$base]})") | $(cell ${C_P50[$t]}) | $(cell ${C_P99[$t]}) | $(cell ${C_P999[$t]}) | $(sum ${C_ERR[$t]}) \
| $(med ${C_CPU[$t]}) | $(mb "$(hi ${C_RSS[$t]})") |"
  done
  for t in "$@"; do
    # shellcheck disable=SC2086
    echo "| $t | fixed ${RATE_OF[$t]}/s | $(cell ${F_RPS[$t]}) | $(spread ${F_RPS[$t]}) | p50 $(ratio "$(med ${F_P50[$t]})" \
"$(med ${F_P50[$base]})") | $(cell ${F_P50[$t]}) | $(cell ${F_P99[$t]}) | $(cell ${F_P999[$t]}) | $(sum ${F_ERR[$t]}) \
| $(med ${F_CPU[$t]}) | $(mb "$(hi ${F_RSS[$t]})") |"
  done
}

# ------------------------------------------------------------------------------------------------- profiling ---
# --profile DIR: one extra closed-loop run per flowgate target under async-profiler (CPU, collapsed stacks), after the
# measurements. async-profiler comes from Maven Central (tools.profiler:async-profiler:3.0, linux-x64).
ASPROF_LIB=""
profiler_lib() {
  [[ -n "$ASPROF_LIB" ]] && return 0
  local dir="$ROOT/target/bench-tools" jar
  jar="$dir/async-profiler-3.0-linux-x64.jar"
  if [[ ! -f "$jar" ]]; then
    say "fetching async-profiler 3.0 from Maven Central (./mvnw dependency:copy)"
    (cd "$ROOT" && timeout 600 ./mvnw -B -q dependency:copy -Dartifact=tools.profiler:async-profiler:3.0:jar:linux-x64 \
      -DoutputDirectory="$dir" >"$WORK/asprof-fetch.log" 2>&1) \
      || { tail -n 20 "$WORK/asprof-fetch.log" >&2; die "--profile: could not fetch async-profiler"; }
  fi
  (cd "$dir" && unzip -o -q "$jar" 'linux-x64/libasyncProfiler.so') || die "--profile: no libasyncProfiler.so in $jar"
  ASPROF_LIB="$dir/linux-x64/libasyncProfiler.so"
}
# An extra closed-loop run of target (a flowgate JVM, pid) with async-profiler attached; writes
# PROFILE_DIR/<scenario>-<target>.collapsed (one line per stack: frames;...;frame count; flame graph tools read it).
profile_run() { # scenario target jvm-pid
  local s=$1 t=$2 pid=$3 out="$PROFILE_DIR/$1-$2.collapsed" ev=cpu
  [[ -n "$PROFILE_DIR" ]] || return 0
  profiler_lib
  # perf_events may be closed to us (containers, perf_event_paranoid): then sample with itimer.
  [[ "$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo 3)" -le 1 || $(id -u) -eq 0 ]] || ev=itimer
  # The agent's options go in double quotes inside the argument: unquoted, jcmd splits them at the '=' and the agent
  # gets none ("return code: 100", and jcmd itself still exits 0).
  jcmd "$pid" JVMTI.agent_load "$ASPROF_LIB" "\"start,event=$ev,interval=1ms\"" >"$WORK/asprof-$s-$t.log" 2>&1 \
    && grep -q 'return code: 0' "$WORK/asprof-$s-$t.log" \
    || { cat "$WORK/asprof-$s-$t.log" >&2; die "--profile: attaching async-profiler to $t failed"; }
  closed_run "$t" "$DURATION" profiled
  jcmd "$pid" JVMTI.agent_load "$ASPROF_LIB" "\"stop,collapsed,file=$out\"" >"$WORK/asprof-stop-$s-$t.log" 2>&1 \
    && grep -q 'return code: 0' "$WORK/asprof-stop-$s-$t.log" \
    || { cat "$WORK/asprof-stop-$s-$t.log" >&2; die "--profile: stopping async-profiler on $t failed"; }
  PROFILES+="- \`$out\`: $t, $(awk '{n += $NF} END {print n + 0}' "$out" 2>/dev/null) samples; hottest frames:"$'\n'
  PROFILES+="$(awk '{n = $NF; $NF = ""; k = split($0, f, ";"); sub(/ +$/, "", f[k]); top[f[k]] += n; tot += n}
      END {for (x in top) printf "%6.1f%% %s\n", 100 * top[x] / tot, x}' "$out" 2>/dev/null | sort -rn | sed -n 1,8p \
      | sed 's/^/    /')"$'\n'
  say "profile of $t: $out"
}
