# Scenario startup (sourced by bench/run.sh): process start to the first 200 on /health/ready, with external
# PostgreSQL and Redis (the machine's: a database created and dropped by this script, a unique Redis key prefix
# deleted afterwards) and with the embedded ones, each on a fresh and on an existing database or data dir.
# shellcheck shell=bash

STARTUP_DBS=()
STARTUP_PREFIX="flowgate-bench-$$-$RANDOM:"
startup_cleanup() { # drop our databases, delete our Redis keys
  local db
  for db in "${STARTUP_DBS[@]}"; do
    psql "$EXT_PG_URL" -X -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 \
      || echo "run.sh: could not drop database $db" >&2
  done
  STARTUP_DBS=()
  redis-cli -u "$EXT_REDIS_URL" --scan --pattern "${STARTUP_PREFIX}*" 2>/dev/null \
    | xargs -r -n 500 redis-cli -u "$EXT_REDIS_URL" DEL >/dev/null 2>&1 || true
}

declare -A S_SECS S_CPU S_RSS
# One start: seconds from launching java to the first 200 on /health/ready (polled every 20 ms), the CPU the node
# (and its embedded servers) used until then, its RSS then; then a graceful stop.
startup_once() { # variant data-dir [VAR=value ...]
  local v=$1 data=$2 port pid t0 t1 code i
  shift 2
  port=$(free_port)
  t0=$(date +%s%N)
  start_flowgate "startup-$v" "$port" "$data" "$@"
  pid=$STARTED_PID
  add_target "startup-$v" "" "" "" "$pid" "$data"
  for ((i = 0; i < 6000; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/health/ready" 2>/dev/null) || true
    [[ "$code" == 200 ]] && break
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$WORK/startup-$v.log" >&2; die "startup ($v): flowgate exited during start"; }
    sleep 0.02
  done
  t1=$(date +%s%N)
  [[ "$code" == 200 ]] || die "startup ($v): not ready after 120 s (see $WORK/startup-$v.log)"
  S_SECS[$v]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e9}') "
  S_CPU[$v]+="$(awk -v t="$(cpu_delta "" "$(cpu_ticks "startup-$v")")" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}') "
  S_RSS[$v]+="$(mb "$(rss_kb "startup-$v")") "
  stop_started
  say "  $v: ready after $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e9}') s"
}

scenario_startup() {
  local r db ext=true variants=() v why=""
  CLEANUPS+=(startup_cleanup)
  if ! psql "$EXT_PG_URL" -X -q -At -c 'select 1' >/dev/null 2>"$WORK/startup-pg.err"; then
    ext=false; why="no PostgreSQL answers at $EXT_PG_URL ($(head -1 "$WORK/startup-pg.err"))"
  elif [[ "$(redis-cli -u "$EXT_REDIS_URL" ping 2>&1)" != PONG ]]; then
    ext=false; why="no Redis answers at $EXT_REDIS_URL"
  fi
  if [[ $ext == true ]]; then
    say "startup with external backends ($EXT_PG_URL, $EXT_REDIS_URL, key prefix $STARTUP_PREFIX): $STARTUP_REPEAT x fresh database, then $STARTUP_REPEAT x restart"
    for ((r = 1; r <= STARTUP_REPEAT; r++)); do
      db="flowgate_bench_$$_${RANDOM}_$r"
      psql "$EXT_PG_URL" -X -q -c "CREATE DATABASE $db" >/dev/null || die "startup: cannot create database $db"
      STARTUP_DBS+=("$db")
      startup_once external-fresh "$WORK/data-startup-ext" FLOWGATE_PG_URL="${EXT_PG_URL%/*}/$db" \
        FLOWGATE_REDIS_URL="$EXT_REDIS_URL" FLOWGATE_REDIS_KEY_PREFIX="$STARTUP_PREFIX$r:"
    done
    for ((r = 1; r <= STARTUP_REPEAT; r++)); do
      startup_once external-restart "$WORK/data-startup-ext" FLOWGATE_PG_URL="${EXT_PG_URL%/*}/${STARTUP_DBS[0]}" \
        FLOWGATE_REDIS_URL="$EXT_REDIS_URL" FLOWGATE_REDIS_KEY_PREFIX="${STARTUP_PREFIX}1:"
    done
    # The same without flowgate's class-data archive (target/flowgate.jsa, dumped by the build and named in
    # conf/jvm.options): only the JDK's own default archive, as before the build made one.
    local jdk_jsa
    jdk_jsa="$(java -XshowSettings:properties -version 2>&1 | awk '$1 == "java.home" {print $3}')/lib/server/classes.jsa"
    if [[ -f "$jdk_jsa" ]]; then
      FG_JVM_EXTRA=("-XX:SharedArchiveFile=$jdk_jsa")
      for ((r = 1; r <= STARTUP_REPEAT; r++)); do
        startup_once external-jdk-cds "$WORK/data-startup-ext" FLOWGATE_PG_URL="${EXT_PG_URL%/*}/${STARTUP_DBS[0]}" \
          FLOWGATE_REDIS_URL="$EXT_REDIS_URL" FLOWGATE_REDIS_KEY_PREFIX="${STARTUP_PREFIX}1:"
      done
      FG_JVM_EXTRA=()
      variants+=(external-jdk-cds)
    else
      echo "run.sh: startup: no JDK default class-data archive at $jdk_jsa; skipping the start without flowgate's" >&2
    fi
    startup_cleanup
    variants+=(external-restart external-fresh)
  else
    echo "run.sh: startup: skipping the external-backend starts: $why" >&2
  fi
  say "startup with embedded backends: $STARTUP_REPEAT x fresh data dir, then $STARTUP_REPEAT x restart"
  for ((r = 1; r <= STARTUP_REPEAT; r++)); do
    startup_once embedded-fresh "$WORK/data-startup-emb$r"
  done
  for ((r = 1; r <= STARTUP_REPEAT; r++)); do
    startup_once embedded-restart "$WORK/data-startup-emb1"
  done
  variants+=(embedded-restart embedded-fresh)

  local table="| backends | data | start → ready s, median (min–max) | spread | CPU s until ready (median) | RSS MB at ready (median) |
|---|---|---:|---:|---:|---:|" what
  for v in "${variants[@]}"; do
    case $v in
      external-restart) what="existing database (migrated before)" ;;
      external-fresh) what="new empty database (migrations run)" ;;
      external-jdk-cds) what="existing database, without flowgate's class-data archive (the JDK's default one only)" ;;
      embedded-restart) what="existing data dir" ;;
      embedded-fresh) what="new data dir (binaries unpacked, initdb)" ;;
    esac
    # shellcheck disable=SC2086
    table+=$'\n'"| ${v%%-*} | $what | $(cell ${S_SECS[$v]}) | $(spread ${S_SECS[$v]}) | $(med ${S_CPU[$v]}) | $(med ${S_RSS[$v]}) |"
  done
  local target_line archive="missing (a jar built before the build dumped one: rebuild with ./mvnw package)"
  [[ -f "$ROOT/target/flowgate.jsa" ]] && archive="$(( $(stat -c %s "$ROOT/target/flowgate.jsa") / 1048576 )) MB; \
the \`without flowgate's class-data archive\` row overrides it with the JDK's default one"
  if [[ $ext == true ]]; then
    local m
    m=$(med ${S_SECS[external-restart]})
    target_line="start to ready ≤ 1.5 s with external backends (existing database): $m s → $(verdict "$(le "$m" 1.5)")"
    [[ -n "${S_SECS[external-jdk-cds]:-}" ]] && target_line+="; without flowgate's class-data archive \
$(med ${S_SECS[external-jdk-cds]}) s → $(verdict "$(le "$(med ${S_SECS[external-jdk-cds]})" 1.5)")"
  else
    target_line="start to ready ≤ 1.5 s with external backends: not measured: $why"
  fi
  report "### startup: process start to 200 on /health/ready

\`java $JVM_FLAGS -jar target/flowgate.jar\` launched, /health/ready polled every 20 ms (curl) until 200; then a
graceful stop. $STARTUP_REPEAT starts per variant. Class-data archive target/flowgate.jsa (which conf/jvm.options
names): $archive. External: $EXT_PG_URL (a database per fresh start, created and
dropped by the script) and $EXT_REDIS_URL (key prefix ${STARTUP_PREFIX}…, deleted afterwards). CPU: the JVM and its
embedded servers; RSS: the JVM.

$table

Target (issue #7): $target_line
"
}
