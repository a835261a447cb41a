package io.flowgate.usage;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Function;

/**
 * The usage of one deployment over a window: per API key and in total, calls, errors by code, latency percentiles
 * and the last call; and, for its queued runs, how long they waited and how long they executed. Immutable; any
 * thread.
 */
public record UsageReport(UUID deploymentId, UsageWindow window, Instant from, Instant to, List<KeyUsage> keys,
    RunUsage runsWithoutKey) {

  /** The calls made with one key, and the queued runs they made that ended in the window. */
  public record KeyUsage(UUID keyId, long calls, Map<String, Long> errors, long[] latency, double latencySumMs,
      Instant lastCall, RunUsage runs) {}

  /** Queued runs that ended in the window: their count, and bucket counts and sums of queue wait and execution. */
  public record RunUsage(long runs, long[] queueWait, double queueWaitSumMs, long[] execution,
      double executionSumMs) {
    public static final RunUsage NONE = new RunUsage(0, new long[0], 0, new long[0], 0);

    RunUsage plus(RunUsage other) {
      return new RunUsage(runs + other.runs, sum(queueWait, other.queueWait), queueWaitSumMs + other.queueWaitSumMs,
          sum(execution, other.execution), executionSumMs + other.executionSumMs);
    }

    JsonObject toJson() {
      return new JsonObject()
          .put("runs", runs)
          .put("queue_wait_ms", withTotal(summary(queueWait, queueWaitSumMs, runs), queueWaitSumMs))
          .put("execution_ms", withTotal(summary(execution, executionSumMs, runs), executionSumMs));
    }

    private static JsonObject withTotal(JsonObject summary, double totalMs) {
      return summary.put("total", Math.round(totalMs * 1000) / 1000.0);
    }
  }

  /**
   * The wire form. {@code describeKey} gives the members that show a key (its masked form and name) for an id, or
   * null for a key that no longer exists. The deployment's {@code queued_runs} are its keys' plus those recorded
   * without a key ({@code runs_without_key}: runs that ended before runs carried their key).
   */
  public JsonObject toJson(Function<UUID, JsonObject> describeKey) {
    long calls = 0;
    double latencySum = 0;
    Map<String, Long> errors = new TreeMap<>();
    long[] latency = new long[LatencyHistogram.BUCKETS];
    Instant lastCall = null;
    RunUsage runs = runsWithoutKey;
    JsonArray perKey = new JsonArray();
    for (KeyUsage k : keys) {
      calls += k.calls();
      latencySum += k.latencySumMs();
      k.errors().forEach((code, n) -> errors.merge(code, n, Long::sum));
      latency = sum(latency, k.latency());
      if (k.lastCall() != null && (lastCall == null || k.lastCall().isAfter(lastCall))) {
        lastCall = k.lastCall();
      }
      runs = runs.plus(k.runs());
      JsonObject described = describeKey.apply(k.keyId());
      JsonObject entry = new JsonObject().put("api_key_id", k.keyId().toString())
          .put("key", described == null ? null : described.getValue("key"))
          .put("name", described == null ? null : described.getValue("name"));
      perKey.add(calls(entry, k.calls(), k.errors(), k.latency(), k.latencySumMs(), k.lastCall())
          .put("queued_runs", k.runs().toJson()));
    }
    JsonObject json = new JsonObject()
        .put("deployment_id", deploymentId.toString())
        .put("window", window.wire())
        .put("from", from.toString())
        .put("to", to.toString());
    calls(json, calls, errors, latency, latencySum, lastCall);
    json.put("queued_runs", runs.toJson().put("runs_without_key", runsWithoutKey.runs()));
    return json.put("keys", perKey);
  }

  private static JsonObject calls(JsonObject into, long calls, Map<String, Long> errors, long[] latency,
      double latencySum, Instant lastCall) {
    long errorCount = errors.values().stream().mapToLong(Long::longValue).sum();
    return into.put("calls", calls)
        .put("errors", errorCount)
        .put("errors_by_code", new JsonObject(new TreeMap<String, Object>(errors)))
        .put("latency_ms", summary(latency, latencySum, calls))
        .put("last_call_at", lastCall == null ? null : lastCall.toString());
  }

  /** p50/p95/p99 from the buckets, the mean from the exact sum; all null when nothing was counted. */
  private static JsonObject summary(long[] buckets, double sum, long count) {
    return new JsonObject()
        .put("p50", LatencyHistogram.percentile(buckets, 0.50))
        .put("p95", LatencyHistogram.percentile(buckets, 0.95))
        .put("p99", LatencyHistogram.percentile(buckets, 0.99))
        .put("mean", count == 0 ? null : Math.round(sum / count * 1000) / 1000.0);
  }

  /** Bucket counts added index by index (the arrays may be of any lengths up to {@link LatencyHistogram#BUCKETS}). */
  private static long[] sum(long[] a, long[] b) {
    long[] total = new long[Math.max(a.length, b.length)];
    for (int i = 0; i < total.length; i++) {
      total[i] = (i < a.length ? a[i] : 0) + (i < b.length ? b[i] : 0);
    }
    return total;
  }
}
