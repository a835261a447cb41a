# Scenario sync (sourced by bench/run.sh): the demo flow (conf/declarations/demo.yaml: api_input → transform →
# output) on its sync `server` and `api` deployments, against bench/Hello.java, a bare Vert.x /hello with the same
# JVM flags, measured in the same run.
# shellcheck shell=bash

scenario_sync() {
  # The published demo keys of conf/declarations/demo.yaml (see its header).
  local server_id=af86a8a6-40f2-4b92-9f83-c9b3bafb2ccb server_key=sk-fGNTDKVjAOQ-Sag6rkygnZxhpnWerjKEpbS0jg
  local api_id=3c9a1f2e-8b7d-4e6a-9c5b-1d2e3f4a5b6c api_key=sk-Fm66pEdDG0F1tbi7G_nH3pWAK4-WpbpsdPxxdg
  local body='{"input_data": {"name": "Ada"}}' fg_port hello_port fg_pid hello_pid t ans
  fg_port=$(free_port); hello_port=$(free_port)
  say "starting flowgate on 127.0.0.1:$fg_port (embedded backends) and Hello on 127.0.0.1:$hello_port"
  start_flowgate flowgate-sync "$fg_port" "$WORK/data-sync"
  fg_pid=$STARTED_PID
  start_hello hello "$hello_port"
  hello_pid=$STARTED_PID
  wait_up flowgate-sync "$fg_pid" "http://127.0.0.1:$fg_port/health/ready" 180
  wait_up hello "$hello_pid" "http://127.0.0.1:$hello_port/hello" 60
  add_target hello "http://127.0.0.1:$hello_port/hello" "$body" "" "$hello_pid"
  add_target server "http://127.0.0.1:$fg_port/node/deployment-trigger/$server_id/" "$body" "$server_key" "$fg_pid" \
    "$WORK/data-sync"
  add_target api "http://127.0.0.1:$fg_port/node/deployment-trigger/$api_id/" "$body" "$api_key" "$fg_pid" \
    "$WORK/data-sync"
  for t in hello server api; do
    ans=$(post "${T_URLS[$t]}" "$body" "${T_KEY[$t]}")
    [[ "${ans##*$'\n'}" == 200 && "$ans" == *'"greeting":"Hello, Ada!"'* ]] || die "$t: expected 200 with the greeting, got: $ans"
    [[ $t == hello || "$ans" == *'"status":"completed"'* ]] || die "$t: expected a completed run, got: $ans"
    say "verified $t: 200 ${ans:0:70}…"
  done

  measure_targets hello server api
  profile_run sync server "$fg_pid"
  profile_run sync api "$fg_pid"

  local r_server r_api
  r_server=$(ratio "$(med ${C_RPS[server]})" "$(med ${C_RPS[hello]})")
  r_api=$(ratio "$(med ${C_RPS[api]})" "$(med ${C_RPS[hello]})")
  report "### sync: trivial flow, \`server\` and \`api\`, vs a bare Vert.x /hello

flowgate with its embedded PostgreSQL and redis-server (fresh data dir), demo deployments of
conf/declarations/demo.yaml, body \`$body\`; \`hello\` = bench/Hello.java (one verticle per core, native transport,
reads the body, 54-byte JSON). server and api share one flowgate process: CPU and RSS are that process's (with its
backends for CPU), measured over each target's own runs.

$(load_table hello hello server api)

Targets (issue #7):
- sync \`server\` throughput ≥ 0.5× /hello: $r_server× → $(verdict "$(ge "$r_server" 0.5)")
- sync \`api\` throughput ≥ 0.25× /hello: $r_api× → $(verdict "$(ge "$r_api" 0.25)")
"
}
