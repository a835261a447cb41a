# Scenario jmh (optional; sourced by bench/run.sh): builds target/benchmarks.jar with the Maven profile -Pbench
# (bench/jmh: the per-request hot code on the real io.flowgate classes) and runs it with --jmh-args.
# shellcheck shell=bash

scenario_jmh() {
  local args rc=0
  say "building target/benchmarks.jar (./mvnw -Pbench -DskipTests package)"
  (cd "$ROOT" && timeout 1200 ./mvnw -B -q -Pbench -DskipTests package >"$WORK/jmh-build.log" 2>&1) \
    || { tail -n 30 "$WORK/jmh-build.log" >&2; die "jmh: the -Pbench build failed"; }
  read -r -a args <<<"$JMH_ARGS"
  say "java -jar target/benchmarks.jar ${args[*]}"
  # Bounded like every load: a generous ceiling over the default settings (9 benchmarks, 3 params, ~20 s each).
  (cd "$ROOT" && exec timeout 1800 java -jar target/benchmarks.jar "${args[@]}" -rf text -rff "$WORK/jmh.txt") \
    >"$WORK/jmh.log" 2>&1 &
  LOAD_PID=$!
  wait "$LOAD_PID" || rc=$?
  LOAD_PID=""
  (( rc == 0 )) || { tail -n 40 "$WORK/jmh.log" >&2; die "jmh: the benchmarks failed (exit $rc)"; }
  cat "$WORK/jmh.txt"
  report "### jmh: per-request hot code (\`java -jar target/benchmarks.jar $JMH_ARGS\`)

Average time per operation (lower is better), ± the 99.9% confidence half-width JMH reports. Sources in bench/jmh.

\`\`\`
$(cat "$WORK/jmh.txt")
\`\`\`
"
}
