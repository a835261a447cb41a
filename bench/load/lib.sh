# Shared helpers of bench/load/async.sh and bench/load/fast.sh (sourced, not run). The sourcing script sets NAME
# (for messages) and ROOT before sourcing, then calls bench_init_work once its options are parsed.
# shellcheck shell=bash

# shellcheck source=bench/load/parse.sh
source "$ROOT/bench/load/parse.sh"

die() {
  echo "$NAME: $*" >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------------- processes ---
WORK=""
PIDS=()          # long-running processes we started, in start order (stopped in reverse)
LOAD_PID=""      # the wrk/hey running now
DATA_DIRS=()     # embedded PostgreSQL/redis-server executables live under these (leftovers stopped by pid)
EXTRA_CLEANUP="" # a function name the sourcing script may set, run first at exit

stop_pid() { # pid, grace seconds: TERM, wait, KILL
  local pid=$1 grace=$2 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "$NAME: pid $pid did not stop in ${grace}s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

stop_leftovers() { # embedded postgres/redis-server whose executable lives under one of our data dirs, by pid
  local d f pid exe
  for d in "${DATA_DIRS[@]}"; do
    [[ -n "$d" && -d "$d" ]] || continue
    for f in /proc/[0-9]*/cmdline; do
      pid=${f#/proc/}; pid=${pid%/cmdline}
      exe=""
      { IFS= read -r -d '' exe <"$f"; } 2>/dev/null || true
      if [[ "$exe" == "$d"/* ]]; then
        echo "$NAME: stopping leftover $exe (pid $pid)" >&2
        stop_pid "$pid" 5
      fi
    done
  done
}

bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  [[ -n "$EXTRA_CLEANUP" ]] && "$EXTRA_CLEANUP"
  [[ -n "$LOAD_PID" ]] && kill -TERM "$LOAD_PID" 2>/dev/null
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    stop_pid "${PIDS[$i]}" 30
  done
  stop_leftovers
  if [[ -n "$WORK" && -d "$WORK" ]]; then
    if (( rc != 0 )) || [[ "${KEEP_WORK:-false}" == true ]]; then
      echo "$NAME: exit $rc; logs kept in $WORK" >&2
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$rc"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs a command in the background and waits for it, so a signal stops the script at once (bash defers traps while
# a foreground child runs). Output to $1.
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

bench_init_work() { WORK=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-$NAME.XXXXXX"); }

# ---------------------------------------------------------------------------------------------------------- tools ---
need_tools() { # apt-package-named tools; installed with apt-get when missing and root, else stop
  local missing=() t
  for t in "$@"; do command -v "$t" >/dev/null || [[ -x "/usr/sbin/$t" ]] || missing+=("$t"); done
  (( ${#missing[@]} == 0 )) && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "$NAME: installing ${missing[*]} with apt-get" >&2
    timeout 600 apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
      || { timeout 600 apt-get update -qq && timeout 600 apt-get install -y -qq "${missing[@]}" >/dev/null; } \
      || die "apt-get install ${missing[*]} failed"
  else
    die "missing ${missing[*]}: install them (Debian: sudo apt-get install -y ${missing[*]}) or run as root"
  fi
}

free_port() { # a port nothing listens on now (checked by connecting), not in USED_PORTS
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 40000))
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
  for ((i = 0; i < secs * 2; i++)); do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$WORK/$name.log" >&2; die "$name exited during start"; }
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    sleep 0.5
  done
  tail -n 30 "$WORK/$name.log" >&2
  die "$name not ready at $url after ${secs}s"
}

# ---------------------------------------------------------------------------------------------------- parsing ---
wrk_secs() { # the run's actual length in seconds ("10.06s," or "1.00m,")
  awk '/requests in/ {s = $4; sub(/,$/, "", s); f = 1; if (s ~ /m$/) f = 60; sub(/[a-z]+$/, "", s); print s * f}' "$1"
}
wrk_pct_ms() { # file, 50|99 -> ms (wrk --latency: us, ms or s)
  awk -v p="$2%" '$1 == p {v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v)
       if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000; printf "%.3f", v}' "$1"
}
hey_pct() { awk -v p="$2%" '$1 == p && $2 == "in" {printf "%.2f", $3 * 1000}' "$1"; }
hey_status() { # file, code -> responses with that status
  awk -v c="[$2]" '/Status code distribution:/ {s = 1; next} /Error distribution:/ {s = 0}
       s && $1 == c {n += $2} END {print n + 0}' "$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0 && a != "") printf "%.3f", a / b; else print "n/a"}'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN {print (a != "n/a" && a != "" && a + 0 >= b + 0) ? 1 : 0}'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN {print (a != "n/a" && a != "" && a + 0 <= b + 0) ? 1 : 0}'; }
now_s() { date +%s.%N; }

rss_kb() { # pids... -> summed VmRSS (kB) of them and all their descendants
  local p
  for p in $(tree_pids "$@"); do awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null; done | awk '{s += $1} END {print s + 0}'
}

# ------------------------------------------------------------------------------------------------ section header ---
bench_commit() { # sets COMMIT_LINE ("abc1234" + dirty note) from SOURCE_REPO
  COMMIT_LINE="unknown"
  if git -C "$SOURCE_REPO" rev-parse --short HEAD >/dev/null 2>&1; then
    COMMIT_LINE=$(git -C "$SOURCE_REPO" rev-parse --short HEAD)
    if [[ -n "$(git --no-optional-locks -C "$SOURCE_REPO" status --porcelain -- src pom.xml 2>/dev/null)" ]]; then
      COMMIT_LINE+=" (with uncommitted changes in src/ or pom.xml)"
    fi
  fi
}
machine_line() {
  local cpu_model mem
  cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
  echo "$(nproc) cores, $cpu_model, $mem"
}
append_results() { # section text
  if [[ ! -f "$RESULTS" ]]; then
    printf '# flowgate load benchmark results\n\nAppended by `bench/load/run.sh`; see bench/README.md for how to read them.\n' \
      >"$RESULTS"
  fi
  printf '\n%s' "$1" >>"$RESULTS"
  echo "$NAME: appended to $RESULTS"
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
dir_pids() { # dir -> pids of processes whose executable (argv[0]) lives under dir: the embedded PostgreSQL, which
  # daemonizes (pg_ctl) and so is no descendant of the JVM, and redis-server
  local f pid exe
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    exe=""
    { IFS= read -r -d '' exe <"$f"; } 2>/dev/null || true
    [[ "$exe" == "$1"/* ]] && echo "$pid"
  done
  return 0
}
cpu_ticks() { # pids... [--dir DIR] -> utime + stime (clock ticks) of them, their descendants and (--dir) the processes
  # running an executable under DIR, each counted once (processes alive now)
  local p st t=0 pids=() dir=""
  while [[ $# -gt 0 ]]; do
    if [[ "$1" == --dir ]]; then dir=$2; shift 2; else pids+=("$1"); shift; fi
  done
  for p in $( { tree_pids "${pids[@]}" | tr ' ' '\n'; [[ -z "$dir" ]] || dir_pids "$dir"; } | sort -un); do
    st=$(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null) || continue
    t=$((t + $(awk '{print $12 + $13}' <<<"$st")))
  done
  echo "$t"
}
us_per() { # ticks, count -> microseconds of CPU per item
  awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {if (n > 0) printf "%.0f", t / hz * 1e6 / n; else print "n/a"}'
}
