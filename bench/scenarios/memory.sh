# Scenario memory (sourced by bench/run.sh): RSS of the fast scenario's processes idle (after start, before any
# request), under its load (largest of 0.5 s samples during each run) and after it. When fast runs too, these are
# taken during fast; alone, it runs fast's set-up and load and reports only this.
# shellcheck shell=bash

scenario_memory() {
  fast_load
  memory_report
}

mb_list() { local k out=""; for k in "$@"; do out+="$(mb "$k") "; done; echo "$out"; }

memory_report() {
  local targets=(direct flowgate nginx haproxy) t closed fixed backends=0 p
  local table="| target | idle MB | closed loop MB, per-run max: median (min–max) | fixed rate MB, per-run max: median (min–max) | max MB | after the load MB | max × nginx |
|---|---:|---:|---:|---:|---:|---:|"
  for t in "${targets[@]}"; do
    # shellcheck disable=SC2086
    closed=$(mb_list ${C_RSS[$t]}); fixed=$(mb_list ${F_RSS[$t]})
    # shellcheck disable=SC2086
    table+=$'\n'"| $t | $(mb "${IDLE_RSS[$t]}") | $(cell $closed) | $(cell $fixed) | $(hi $closed $fixed) \
| $(mb "${AFTER_RSS[$t]}") | $(ratio "$(hi $closed $fixed)" "$(hi $(mb_list ${C_RSS[nginx]} ${F_RSS[nginx]}))") |"
  done
  for p in $(dir_pids "$WORK/data-fast"); do
    backends=$((backends + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  # shellcheck disable=SC2086
  local fg_max
  # shellcheck disable=SC2086
  fg_max=$(hi $(mb_list ${C_RSS[flowgate]} ${F_RSS[flowgate]}))
  report "### memory: RSS idle and under the fast load

VmRSS summed over each target's processes (nginx: master + workers; flowgate: its JVM only — its embedded
PostgreSQL and redis-server, not on the Fast Mode path, held $(mb "$backends") MB more, counting shared pages once per
process), sampled every 0.5 s during each run of the fast scenario's load (\`$JVM_FLAGS\` for flowgate).

$table

Target (issue #7): flowgate RSS under the fast load ≤ 160 MB: $fg_max MB → $(verdict "$(le "$fg_max" 160)")
"
}
