package io.flowgate.usage;

/** Every query of {@link UsageRepository}, in one place. */
final class UsageSql {
  /** A writer's running totals of some minutes, one array per column; latency arrays and errors travel as text. */
  static final String UPSERT_CALLS = """
      INSERT INTO usage_minutes (deployment_id, api_key_id, minute, writer, calls, errors, latency, latency_sum_ms,
        last_call_at)
      SELECT d, k, m, $4::text, c, e::jsonb, l::bigint[], s, lc
      FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $5::int8[], $6::text[], $7::text[], $8::float8[],
        $9::timestamptz[]) AS u(d, k, m, c, e, l, s, lc)
      ON CONFLICT (deployment_id, minute, api_key_id, writer) DO UPDATE SET calls = EXCLUDED.calls,
        errors = EXCLUDED.errors, latency = EXCLUDED.latency, latency_sum_ms = EXCLUDED.latency_sum_ms,
        last_call_at = EXCLUDED.last_call_at
      """;

  /** As {@link #UPSERT_CALLS}; the key may be null (a run without one), which the unique index counts as a key. */
  static final String UPSERT_RUNS = """
      INSERT INTO run_usage_minutes (deployment_id, api_key_id, minute, writer, runs, queue_wait, queue_wait_sum_ms,
        execution, execution_sum_ms)
      SELECT d, k, m, $4::text, r, q::bigint[], qs, x::bigint[], xs
      FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $5::int8[], $6::text[], $7::float8[], $8::text[],
        $9::float8[]) AS u(d, k, m, r, q, qs, x, xs)
      ON CONFLICT (deployment_id, minute, writer, coalesce(api_key_id, '00000000-0000-0000-0000-000000000000'::uuid))
      DO UPDATE SET runs = EXCLUDED.runs,
        queue_wait = EXCLUDED.queue_wait, queue_wait_sum_ms = EXCLUDED.queue_wait_sum_ms,
        execution = EXCLUDED.execution, execution_sum_ms = EXCLUDED.execution_sum_ms
      """;

  static final String CALL_TOTALS = """
      SELECT api_key_id, sum(calls)::bigint AS calls, sum(latency_sum_ms) AS latency_sum_ms,
        max(last_call_at) AS last_call_at
      FROM usage_minutes WHERE deployment_id = $1 AND minute >= $2 GROUP BY api_key_id
      """;

  static final String CALL_ERRORS = """
      SELECT u.api_key_id, e.key AS code, sum(e.value::bigint)::bigint AS n
      FROM usage_minutes u CROSS JOIN LATERAL jsonb_each_text(u.errors) AS e
      WHERE u.deployment_id = $1 AND u.minute >= $2 GROUP BY u.api_key_id, e.key
      """;

  /** Bucket counts summed over minutes and writers; {@code i} is 1-based (ORDINALITY). */
  static final String CALL_LATENCY = """
      SELECT u.api_key_id, b.i::int AS i, sum(b.n)::bigint AS n
      FROM usage_minutes u CROSS JOIN LATERAL unnest(u.latency) WITH ORDINALITY AS b(n, i)
      WHERE u.deployment_id = $1 AND u.minute >= $2 GROUP BY u.api_key_id, b.i
      """;

  /** Per key; a null {@code api_key_id} holds the runs recorded without one. */
  static final String RUN_TOTALS = """
      SELECT api_key_id, sum(runs)::bigint AS runs, sum(queue_wait_sum_ms) AS queue_wait_sum_ms,
        sum(execution_sum_ms) AS execution_sum_ms
      FROM run_usage_minutes WHERE deployment_id = $1 AND minute >= $2 GROUP BY api_key_id
      """;

  static final String RUN_BUCKETS = """
      SELECT r.api_key_id, 'queue_wait' AS kind, b.i::int AS i, sum(b.n)::bigint AS n
      FROM run_usage_minutes r CROSS JOIN LATERAL unnest(r.queue_wait) WITH ORDINALITY AS b(n, i)
      WHERE r.deployment_id = $1 AND r.minute >= $2 GROUP BY r.api_key_id, b.i
      UNION ALL
      SELECT r.api_key_id, 'execution', b.i::int, sum(b.n)::bigint
      FROM run_usage_minutes r CROSS JOIN LATERAL unnest(r.execution) WITH ORDINALITY AS b(n, i)
      WHERE r.deployment_id = $1 AND r.minute >= $2 GROUP BY r.api_key_id, b.i
      """;

  static final String DELETE_CALLS_BEFORE = "DELETE FROM usage_minutes WHERE minute < $1";

  static final String DELETE_RUNS_BEFORE = "DELETE FROM run_usage_minutes WHERE minute < $1";

  private UsageSql() {
  }
}
