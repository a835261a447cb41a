package io.flowgate.usage;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The usage of one deployment over a window as a time series, for charts: calls, errors and latency p50/p99 per step
 * (1 minute over 1h, 1 hour over 24h, 6 hours over 7d), from the same per-minute rows as {@link UsageRepository}'s
 * report, every step present (zeros where nothing was called). Steps are aligned to whole multiples of their length
 * since the epoch, so the first may cover less than the window. Thread-safe; every method returns a Future.
 */
public final class UsageSeries {
  /** Calls and errors per step, summed over keys and writers. */
  static final String CALLS = """
      SELECT s.step_start, sum(u.calls)::bigint AS calls, sum(x.errors)::bigint AS errors
      FROM usage_minutes u
      CROSS JOIN LATERAL (SELECT (floor(extract(epoch FROM u.minute) / $3::int) * $3::int)::bigint AS step_start) s
      CROSS JOIN LATERAL (SELECT coalesce(sum(e.value::bigint), 0) AS errors FROM jsonb_each_text(u.errors) e) x
      WHERE u.deployment_id = $1 AND u.minute >= $2 GROUP BY s.step_start
      """;

  /** Latency bucket counts per step; {@code i} is 1-based (ORDINALITY). */
  static final String LATENCY = """
      SELECT (floor(extract(epoch FROM u.minute) / $3::int) * $3::int)::bigint AS step_start, b.i::int AS i,
        sum(b.n)::bigint AS n
      FROM usage_minutes u CROSS JOIN LATERAL unnest(u.latency) WITH ORDINALITY AS b(n, i)
      WHERE u.deployment_id = $1 AND u.minute >= $2 GROUP BY 1, 2
      """;

  private final Pool pool;

  public UsageSeries(Pool pool) {
    this.pool = pool;
  }

  /** The length of one step of {@code window}'s series. */
  public static Duration step(UsageWindow window) {
    return switch (window) {
      case HOUR -> Duration.ofMinutes(1);
      case DAY -> Duration.ofHours(1);
      case WEEK -> Duration.ofHours(6);
    };
  }

  /**
   * {@code {"deployment_id", "window", "from", "to", "step_seconds", "points": [{"at", "calls", "errors",
   * "latency_ms": {"p50", "p99"}}]}}, oldest point first; {@code at} is the start of the step.
   */
  public Future<JsonObject> read(UUID deploymentId, UsageWindow window) {
    Instant to = Instant.now();
    Instant from = to.minus(window.span());
    long stepSeconds = step(window).toSeconds();
    Tuple params = Tuple.of(deploymentId, Instant.ofEpochMilli(from.toEpochMilli() / 60_000 * 60_000)
        .atOffset(ZoneOffset.UTC), (int) stepSeconds);
    return Future.all(pool.preparedQuery(CALLS).execute(params), pool.preparedQuery(LATENCY).execute(params))
        .map(both -> {
          Map<Long, long[]> totals = new HashMap<>();
          for (Row row : both.<io.vertx.sqlclient.RowSet<Row>>resultAt(0)) {
            totals.put(row.getLong("step_start"), new long[] {row.getLong("calls"), row.getLong("errors")});
          }
          Map<Long, long[]> latency = new TreeMap<>();
          for (Row row : both.<io.vertx.sqlclient.RowSet<Row>>resultAt(1)) {
            int i = row.getInteger("i") - 1;
            if (i >= 0 && i < LatencyHistogram.BUCKETS) {
              latency.computeIfAbsent(row.getLong("step_start"), k -> new long[LatencyHistogram.BUCKETS])[i]
                  += row.getLong("n");
            }
          }
          JsonArray points = new JsonArray();
          long first = from.getEpochSecond() / stepSeconds * stepSeconds;
          for (long at = first; at <= to.getEpochSecond(); at += stepSeconds) {
            long[] t = totals.getOrDefault(at, new long[2]);
            long[] buckets = latency.getOrDefault(at, new long[0]);
            points.add(new JsonObject()
                .put("at", Instant.ofEpochSecond(at).toString())
                .put("calls", t[0])
                .put("errors", t[1])
                .put("latency_ms", new JsonObject()
                    .put("p50", LatencyHistogram.percentile(buckets, 0.50))
                    .put("p99", LatencyHistogram.percentile(buckets, 0.99))));
          }
          return new JsonObject()
              .put("deployment_id", deploymentId.toString())
              .put("window", window.wire())
              .put("from", from.toString())
              .put("to", to.toString())
              .put("step_seconds", stepSeconds)
              .put("points", points);
        });
  }
}
