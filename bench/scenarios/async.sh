# Scenario async (sourced by bench/run.sh): durable 202/s and completions/s of an async `api` deployment (flow
# api_input → delay → output), 1 node, then 2 nodes sharing node 1's embedded PostgreSQL and redis-server.
# shellcheck shell=bash

ASYNC_PG_PORT=""
async_sql() { PGCONNECT_TIMEOUT=5 psql -X -q -At -h 127.0.0.1 -p "$ASYNC_PG_PORT" -U postgres -d postgres -c "$1"; }

# Waits until no run is queued or running, so the next run starts on an empty queue; writes the seconds it took to
# $WORK/last.drain. Runs inside the measured command: the CPU of executing the accepted runs counts.
async_drain() {
  local t0 n i
  t0=$(date +%s.%N)
  for ((i = 0; i < 1200; i++)); do
    n=$(async_sql "select count(*) from run_history where status in ('queued','running')") || n=error
    if [[ "$n" == 0 ]]; then
      awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f\n", b - a}' >"$WORK/last.drain"
      return 0
    fi
    sleep 0.25
  done
  echo "run.sh: $n runs still queued or running after 300 s" >&2
  return 1
}
async_closed() { wrk_cmd "$@" && async_drain; }
async_fixed() { loadgen_cmd "$@" && async_drain; }

# Sets ASYNC_PG_PORT and redis_port (the caller's) from the log of the node that started the embedded backends.
async_backend_ports() { # node name
  ASYNC_PG_PORT=$(sed -n 's/.*embedded PostgreSQL ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/$1.log" | head -1)
  redis_port=$(sed -n 's/.*embedded Redis ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/$1.log" | head -1)
  [[ -n "$ASYNC_PG_PORT" && -n "$redis_port" ]] || die "async: could not read the embedded backends' ports from $WORK/$1.log"
}

declare -A A_DONE A_DRAIN S_DONE S_CPU S_SHARE S_OTHER

# One run of the slot-bound part: triggers at a fixed rate for the run's duration (no warm-up: every accepted run
# counts), waits for the drain, then reads from the history how many runs completed and over what time, first
# accept to last finish. The nodes' worker_concurrency, not the CPU, bounds the completions.
async_slots_run() { # target label
  local t=$1 label=$2 t0 f="$WORK/$2-$1.lg" row n other secs on2 rate saved=$FIXED_WARMUP
  t0=$(async_sql "select now()") || die "async: PostgreSQL did not answer"
  FIXED_WARMUP=0
  measure "$t" "$f" async_fixed "$t" "$ASYNC_SLOTS_RATE" "$DURATION" || { cat "$f" >&2; die "the slot-bound load against $t failed"; }
  FIXED_WARMUP=$saved
  row=$(async_sql "select count(*) filter (where status = 'completed'), count(*) filter (where status <> 'completed'),
      extract(epoch from max(finished_at) - min(created_at)), count(*) filter (where node_id = 'bench-node-2')
    from run_history where deployment_id = '$dep' and created_at >= '$t0'") || die "async: PostgreSQL did not answer"
  IFS='|' read -r n other secs on2 <<<"$row"
  [[ "$n" =~ ^[0-9]+$ ]] && (( n > 0 )) || die "async: no completed run in the slot-bound run against $t ($row)"
  rate=$(awk -v n="$n" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')
  if [[ "$label" != warmup ]]; then
    S_DONE[$t]+="$rate "; S_CPU[$t]+="$(us_per "$M_TICKS" "$n") "; S_OTHER[$t]+="$other "
    S_SHARE[$t]+="$(awk -v a="$on2" -v n="$((n + other))" 'BEGIN {printf "%.0f", 100 * a / n}') "
  fi
  say "  $label $t: $n runs completed in ${secs}s (first accept to last finish): $rate/s; not completed: $other;" \
    "executed by node 2: $on2; CPU $(us_per "$M_TICKS" "$n") µs/run"
}
async_after_run() { # target kind output: completions/s = accepted / (load + drain)
  local t=$1 kind=$2 out=$3 req err secs drain
  [[ $kind == closed && "$out" == */run* ]] || return 0
  read -r req err secs _ <<<"$(wrk_sum "$out"-*.wrk)"
  drain=$(cat "$WORK/last.drain")
  A_DRAIN[$t]+="$drain "
  A_DONE[$t]+="$(awk -v n="$((req - err))" -v s="$secs" -v d="$drain" 'BEGIN {printf "%.0f", n / (s + d)}') "
}

scenario_async() {
  local p1 p2 n1 n2 flow ans dep key body='{"input_data": {"features": [5.1, 3.5, 1.4, 0.2]}}' run_id done_ans
  p1=$(free_port); p2=$(free_port)
  say "starting node 1 on 127.0.0.1:$p1 (embedded PostgreSQL and redis-server)"
  start_flowgate node1 "$p1" "$WORK/data-async1" FLOWGATE_NODE_ID=bench-node-1
  n1=$STARTED_PID
  wait_up node1 "$n1" "http://127.0.0.1:$p1/health/ready" 180
  local redis_port
  async_backend_ports node1

  flow=$(control_api "$p1" POST /flows "{\"name\":\"bench-async-delay$DELAY_MS\",\"nodes\":[
    {\"id\":\"input\",\"type\":\"api_input\",\"config\":{}},
    {\"id\":\"wait\",\"type\":\"delay\",\"config\":{\"ms\":$DELAY_MS}},
    {\"id\":\"output\",\"type\":\"output\",\"config\":{}}],
    \"edges\":[{\"from\":\"input\",\"to\":\"wait\"},{\"from\":\"wait\",\"to\":\"output\"}]}" | json_field id)
  [[ -n "$flow" ]] || die "async: no flow id"
  ans=$(control_api "$p1" POST /deployments \
    "{\"flow_id\":\"$flow\",\"name\":\"bench-async\",\"execution_mode\":\"async\",\"deployment_type\":\"api\"}")
  dep=$(json_field id <<<"$ans"); key=$(json_field api_key <<<"$ans")
  [[ -n "$dep" && "$key" == sk-* ]] || die "async: unexpected answer to the deployment's creation: $ans"
  ans=$(post "http://127.0.0.1:$p1/node/deployment-trigger/$dep/" "$body" "$key")
  [[ "${ans##*$'\n'}" == 202 ]] || die "async: expected 202 from the trigger, got: $ans"
  run_id=$(json_field flow_run_id <<<"${ans%$'\n'*}")
  done_ans=$(curl -sS --max-time 15 -H "X-API-Key: $key" "http://127.0.0.1:$p1/node/flow-runs/$run_id/?wait=10")
  [[ "$done_ans" == *'"status":"completed"'* ]] || die "async: run $run_id did not complete: $done_ans"
  say "verified: 202 then completed (run $run_id)"

  LOAD_CLOSED=async_closed; LOAD_FIXED=async_fixed; HOOK_AFTER_RUN=async_after_run
  # A longer warm-up than the other scenarios': the JIT compiled for ~40 s of this load (the JVM's compile time was
  # 27%, 16%, then 3% of one core in three 10 s windows after a 15 s warm-up), and the table is about the steady state.
  local saved_warmup=$WARMUP
  WARMUP=$ASYNC_WARMUP
  local u1="http://127.0.0.1:$p1/node/deployment-trigger/$dep/" u2="http://127.0.0.1:$p2/node/deployment-trigger/$dep/"
  add_target 1-node "$u1" "$body" "$key" "$n1" "$WORK/data-async1"
  measure_targets 1-node
  # Issue #3's latency target is at a fixed 1,000 triggers/s (--async-latency-rate), on 1 node.
  local lat=1-node-$ASYNC_LATENCY_RATE r
  add_target "$lat" "$u1" "$body" "$key" "$n1" "$WORK/data-async1"
  say "fixed rate $ASYNC_LATENCY_RATE/s on 1 node (issue #3's trigger latency), $REPEAT x ${DURATION}s"
  for ((r = 1; r <= REPEAT; r++)); do fixed_run "$lat" "$ASYNC_LATENCY_RATE" "$DURATION" "latency$r"; done
  # Node 2 joins only now: while it runs, its workers take runs from the shared queue too.
  say "starting node 2 on 127.0.0.1:$p2 on node 1's backends"
  start_flowgate node2 "$p2" "$WORK/data-async2" FLOWGATE_NODE_ID=bench-node-2 \
    FLOWGATE_PG_URL="postgresql://postgres@127.0.0.1:$ASYNC_PG_PORT/postgres" FLOWGATE_REDIS_URL="redis://127.0.0.1:$redis_port"
  n2=$STARTED_PID
  wait_up node2 "$n2" "http://127.0.0.1:$p2/health/ready" 180
  add_target 2-nodes "$u1 $u2" "$body" "$key" "$n1 $n2" "$WORK/data-async1"
  local saved=$FIXED_RATE
  FIXED_RATE=${FIXED_RATE:-${RATE_OF[1-node]}} # the same rate as 1 node, so the latencies compare
  measure_targets 2-nodes
  FIXED_RATE=$saved

  # Scale-out with a core per node. Above, both nodes share the 2 cores, so a second node adds no CPU and cannot add
  # throughput. Here each node's JVM is held to a core of its own (taskset on all its threads; the backends and the
  # load generator run on both cores, as before): 1 node on core 0, then node 1 on core 0 and node 2 on core 1.
  if [[ $(nproc) -ge 2 ]] && command -v taskset >/dev/null; then
    say "scale-out with a core per node: stopping node 2, node 1 held to core 0"
    stop_pid "$n2" 30
    taskset -a -p -c 0 "$n1" >/dev/null || die "async: taskset could not hold node 1 to core 0"
    add_target 1-node-core "$u1" "$body" "$key" "$n1" "$WORK/data-async1"
    closed_run 1-node-core "$WARMUP" warmup
    for ((r = 1; r <= REPEAT; r++)); do closed_run 1-node-core "$DURATION" "run$r"; done
    say "starting node 2 again, held to core 1"
    start_flowgate node2-core "$p2" "$WORK/data-async2" FLOWGATE_NODE_ID=bench-node-2 \
      FLOWGATE_PG_URL="postgresql://postgres@127.0.0.1:$ASYNC_PG_PORT/postgres" FLOWGATE_REDIS_URL="redis://127.0.0.1:$redis_port"
    n2=$STARTED_PID
    taskset -a -p -c 1 "$n2" >/dev/null || die "async: taskset could not hold node 2 to core 1"
    wait_up node2-core "$n2" "http://127.0.0.1:$p2/health/ready" 180
    add_target 2-nodes-core "$u1 $u2" "$body" "$key" "$n1 $n2" "$WORK/data-async1"
    closed_run 2-nodes-core "$WARMUP" warmup
    for ((r = 1; r <= REPEAT; r++)); do closed_run 2-nodes-core "$DURATION" "run$r"; done
  fi
  WARMUP=$saved_warmup
  LOAD_CLOSED=wrk_cmd; LOAD_FIXED=loadgen_cmd; HOOK_AFTER_RUN=""
  if [[ -n "$PROFILE_DIR" ]]; then
    LOAD_CLOSED=async_closed
    add_target node1-only "http://127.0.0.1:$p1/node/deployment-trigger/$dep/" "$body" "$key" "$n1" "$WORK/data-async1"
    profile_run async node1-only "$n1"
    LOAD_CLOSED=wrk_cmd
  fi

  # Scale-out when execution slots are the limit. The runs of this flow wait 20 ms on a timer, so what bounds a
  # node's completions is how many runs it executes at once (worker_concurrency), unless the CPU runs out first. At
  # the default (256) the CPU runs out first on 2 shared cores, which the parts above measure; here each node
  # executes $ASYNC_SLOTS at once, as a node whose flows call a slow upstream would be configured, and the triggers
  # come faster than one node's slots complete them, so that the completions show the slots of the cluster.
  say "slot-bound scale-out: nodes restarted with worker_concurrency $ASYNC_SLOTS, $ASYNC_SLOTS_RATE triggers/s"
  stop_pid "$n2" 30
  stop_pid "$n1" 30
  start_flowgate node1-slots "$p1" "$WORK/data-async1" FLOWGATE_NODE_ID=bench-node-1 \
    FLOWGATE_RUNS_WORKER_CONCURRENCY="$ASYNC_SLOTS"
  n1=$STARTED_PID
  wait_up node1-slots "$n1" "http://127.0.0.1:$p1/health/ready" 180
  async_backend_ports node1-slots
  add_target 1-node-slots "$u1" "$body" "$key" "$n1" "$WORK/data-async1"
  async_slots_run 1-node-slots warmup # the restarted JVM's JIT, unrecorded
  for ((r = 1; r <= REPEAT; r++)); do async_slots_run 1-node-slots "slots$r"; done
  start_flowgate node2-slots "$p2" "$WORK/data-async2" FLOWGATE_NODE_ID=bench-node-2 \
    FLOWGATE_RUNS_WORKER_CONCURRENCY="$ASYNC_SLOTS" \
    FLOWGATE_PG_URL="postgresql://postgres@127.0.0.1:$ASYNC_PG_PORT/postgres" FLOWGATE_REDIS_URL="redis://127.0.0.1:$redis_port"
  n2=$STARTED_PID
  wait_up node2-slots "$n2" "http://127.0.0.1:$p2/health/ready" 180
  add_target 2-nodes-slots "$u1 $u2" "$body" "$key" "$n1 $n2" "$WORK/data-async1"
  async_slots_run 2-nodes-slots warmup
  for ((r = 1; r <= REPEAT; r++)); do async_slots_run 2-nodes-slots "slots$r"; done

  local m1 c1 c2 k1 k2 p99 scale s1 s2 slots
  m1=$(med ${C_RPS[1-node]})
  # shellcheck disable=SC2086
  c1=$(med ${A_DONE[1-node]}); c2=$(med ${A_DONE[2-nodes]})
  # shellcheck disable=SC2086
  k1=$(med ${A_DONE[1-node-core]}); k2=$(med ${A_DONE[2-nodes-core]}); p99=$(med ${F_P99[$lat]})
  scale=$(ratio "$k2" "$k1")
  s1=$(med ${S_DONE[1-node-slots]}); s2=$(med ${S_DONE[2-nodes-slots]}); slots=$(ratio "$s2" "$s1")
  report "### async: durable 202/s and completions/s, 1 node vs 2 nodes

Flow api_input → delay ${DELAY_MS} ms → output on an \`execution_mode: async\`, \`deployment_type: api\` deployment;
body \`$body\`. Node 1 runs its embedded PostgreSQL and redis-server (fresh data dir); node 2 (started after the
1-node runs) uses node 1's, so both share one queue and one database — and the same 2 cores. With 2 nodes each load
generator splits its connections over both. Requests = 202 responses (durably accepted: recorded in PostgreSQL
before the answer); errors = any other status or socket error. After every run the script waits until no run is
queued or running (the drain); CPU per request covers the run and the drain (accepting *and* executing) of all
nodes and the backends.

$(load_table 1-node 1-node 2-nodes)

Completions (closed-loop runs): accepted runs / (load time + drain time), per run:

| nodes | completions/s median (min–max) | spread | drain s median (min–max) | × 1 node |
|---|---:|---:|---:|---:|
| 1 | $(cell ${A_DONE[1-node]}) | $(spread ${A_DONE[1-node]}) | $(cell ${A_DRAIN[1-node]}) | 1.00 |
| 2 | $(cell ${A_DONE[2-nodes]}) | $(spread ${A_DONE[2-nodes]}) | $(cell ${A_DRAIN[2-nodes]}) | $(ratio "$c2" "$c1") |

Scale-out with a core per node (each node's JVM held to a core of its own with \`taskset\`; PostgreSQL, redis-server and
wrk on both cores): 1 node on core 0, then 2 nodes on cores 0 and 1, closed loop, ${ASYNC_WARMUP}s warm-up each:

| nodes | 202/s median (min–max) | completions/s median (min–max) | spread | CPU µs/req | × 1 node (completions) |
|---|---:|---:|---:|---:|---:|
| 1, core 0 | $(cell ${C_RPS[1-node-core]}) | $(cell ${A_DONE[1-node-core]}) | $(spread ${A_DONE[1-node-core]}) | $(med ${C_CPU[1-node-core]}) | 1.00 |
| 2, cores 0 and 1 | $(cell ${C_RPS[2-nodes-core]}) | $(cell ${A_DONE[2-nodes-core]}) | $(spread ${A_DONE[2-nodes-core]}) | $(med ${C_CPU[2-nodes-core]}) | $scale |

Scale-out when execution slots are the limit: both nodes restarted with \`worker_concurrency: $ASYNC_SLOTS\` (runs a
node executes at once; default 256), shared cores, unpinned. $ASYNC_SLOTS_RATE triggers/s (bench/LoadGen.java) for
${DURATION}s, more than one node's slots complete (at most $ASYNC_SLOTS / ${DELAY_MS} ms), then the drain. Completions/s =
completed runs / (last finish − first accept), from the history; every accepted run counts. One unrecorded run of
the same kind first, for the restarted JVMs' JIT:

| nodes | completions/s median (min–max) | spread | not completed | % executed by node 2 | CPU µs/run | × 1 node |
|---|---:|---:|---:|---:|---:|---:|
| 1 | $(cell ${S_DONE[1-node-slots]}) | $(spread ${S_DONE[1-node-slots]}) | $(sum ${S_OTHER[1-node-slots]}) | $(cell ${S_SHARE[1-node-slots]}) | $(med ${S_CPU[1-node-slots]}) | 1.00 |
| 2 | $(cell ${S_DONE[2-nodes-slots]}) | $(spread ${S_DONE[2-nodes-slots]}) | $(sum ${S_OTHER[2-nodes-slots]}) | $(cell ${S_SHARE[2-nodes-slots]}) | $(med ${S_CPU[2-nodes-slots]}) | $slots |

Trigger latency at a fixed $ASYNC_LATENCY_RATE/s on 1 node (bench/LoadGen.java, open model, $REPEAT x ${DURATION}s):

| rate | achieved/s median | p50 ms | p99 ms | p99.9 ms | errors | CPU µs/req |
|---|---:|---:|---:|---:|---:|---:|
| $ASYNC_LATENCY_RATE/s | $(med ${F_RPS[$lat]}) | $(cell ${F_P50[$lat]}) | $(cell ${F_P99[$lat]}) | $(cell ${F_P999[$lat]}) | $(sum ${F_ERR[$lat]}) | $(med ${F_CPU[$lat]}) |

Targets:
- issue #7: ≥ 10,000 durable 202/s (1 node, closed loop): $(fmt_rps "$m1") → $(verdict "$(ge "$m1" 10000)")
- issue #3: ≥ 5,000 durable 202/s on 2 cores (1 node, closed loop): $(fmt_rps "$m1") → $(verdict "$(ge "$m1" 5000)")
- issue #3: trigger p99 ≤ 10 ms at $ASYNC_LATENCY_RATE/s: $p99 ms → $(verdict "$(le "$p99" 10)")
- issue #3: completions with 2 nodes ≥ 1.3× one node: $(ratio "$c2" "$c1")× on shared cores → $(verdict "$(ge "$(ratio "$c2" "$c1")" 1.3)"); $scale× with a core per node → $(verdict "$(ge "$scale" 1.3)"); $slots× when execution slots are the limit → $(verdict "$(ge "$slots" 1.3)")
"
}
