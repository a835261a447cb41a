package io.flowgate.usage;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Usage minutes in PostgreSQL: written in batches by every node's {@link UsageRecorder}, read and summed for a usage
 * report. Thread-safe; every method returns a Future.
 */
public final class UsageRepository {
  private final Pool pool;

  public UsageRepository(Pool pool) {
    this.pool = pool;
  }

  /** One writer's totals of one deployment, API key and minute ({@code minute} and {@code lastCall}: epoch ms). */
  record CallRow(UUID deploymentId, UUID keyId, long minute, long calls, Map<String, Long> errors, long[] latency,
      double latencySumMs, long lastCall) {}

  /**
   * One writer's totals of the queued runs of one deployment and API key ({@code keyId} null: runs without one) that
   * ended in one minute (epoch ms).
   */
  record RunRow(UUID deploymentId, UUID keyId, long minute, long runs, long[] queueWait, double queueWaitSumMs,
      long[] execution, double executionSumMs) {}

  /** Writes (replaces) {@code writer}'s rows: one statement per table. */
  Future<Void> write(String writer, List<CallRow> calls, List<RunRow> runs) {
    Future<?> callsWritten = calls.isEmpty() ? Future.succeededFuture() : writeCalls(writer, calls);
    return callsWritten.compose(v -> runs.isEmpty() ? Future.succeededFuture() : writeRuns(writer, runs)).mapEmpty();
  }

  private Future<?> writeCalls(String writer, List<CallRow> rows) {
    int n = rows.size();
    UUID[] deployments = new UUID[n];
    UUID[] keys = new UUID[n];
    OffsetDateTime[] minutes = new OffsetDateTime[n];
    Long[] calls = new Long[n];
    String[] errors = new String[n];
    String[] latency = new String[n];
    Double[] sums = new Double[n];
    OffsetDateTime[] lastCalls = new OffsetDateTime[n];
    for (int i = 0; i < n; i++) {
      CallRow r = rows.get(i);
      deployments[i] = r.deploymentId();
      keys[i] = r.keyId();
      minutes[i] = odt(r.minute());
      calls[i] = r.calls();
      errors[i] = new JsonObject(new LinkedHashMap<>(r.errors())).encode();
      latency[i] = arrayLiteral(r.latency());
      sums[i] = r.latencySumMs();
      lastCalls[i] = odt(r.lastCall());
    }
    return pool.preparedQuery(UsageSql.UPSERT_CALLS).execute(Tuple.tuple().addArrayOfUUID(deployments)
        .addArrayOfUUID(keys).addArrayOfOffsetDateTime(minutes).addString(writer).addArrayOfLong(calls)
        .addArrayOfString(errors).addArrayOfString(latency).addArrayOfDouble(sums)
        .addArrayOfOffsetDateTime(lastCalls));
  }

  private Future<?> writeRuns(String writer, List<RunRow> rows) {
    int n = rows.size();
    UUID[] deployments = new UUID[n];
    UUID[] keys = new UUID[n];
    OffsetDateTime[] minutes = new OffsetDateTime[n];
    Long[] runs = new Long[n];
    String[] waits = new String[n];
    Double[] waitSums = new Double[n];
    String[] executions = new String[n];
    Double[] executionSums = new Double[n];
    for (int i = 0; i < n; i++) {
      RunRow r = rows.get(i);
      deployments[i] = r.deploymentId();
      keys[i] = r.keyId();
      minutes[i] = odt(r.minute());
      runs[i] = r.runs();
      waits[i] = arrayLiteral(r.queueWait());
      waitSums[i] = r.queueWaitSumMs();
      executions[i] = arrayLiteral(r.execution());
      executionSums[i] = r.executionSumMs();
    }
    return pool.preparedQuery(UsageSql.UPSERT_RUNS).execute(Tuple.tuple().addArrayOfUUID(deployments)
        .addArrayOfUUID(keys).addArrayOfOffsetDateTime(minutes).addString(writer).addArrayOfLong(runs).addArrayOfString(waits)
        .addArrayOfDouble(waitSums).addArrayOfString(executions).addArrayOfDouble(executionSums));
  }

  /** Deletes the minutes before {@code cutoff} (retention). */
  Future<Void> deleteBefore(Instant cutoff) {
    Tuple at = Tuple.of(cutoff.atOffset(ZoneOffset.UTC));
    return pool.preparedQuery(UsageSql.DELETE_CALLS_BEFORE).execute(at)
        .compose(v -> pool.preparedQuery(UsageSql.DELETE_RUNS_BEFORE).execute(at))
        .mapEmpty();
  }

  /**
   * The usage of {@code deploymentId} over {@code window} up to now, summed over every node's rows: whole minutes
   * from the one that holds {@code now - window}.
   */
  public Future<UsageReport> report(UUID deploymentId, UsageWindow window) {
    Instant to = Instant.now();
    Instant from = to.minus(window.span());
    OffsetDateTime firstMinute = odt(from.toEpochMilli() / 60_000 * 60_000);
    Tuple params = Tuple.of(deploymentId, firstMinute);
    Future<RowSet<Row>> totals = pool.preparedQuery(UsageSql.CALL_TOTALS).execute(params);
    Future<RowSet<Row>> errors = pool.preparedQuery(UsageSql.CALL_ERRORS).execute(params);
    Future<RowSet<Row>> latency = pool.preparedQuery(UsageSql.CALL_LATENCY).execute(params);
    Future<RowSet<Row>> runTotals = pool.preparedQuery(UsageSql.RUN_TOTALS).execute(params);
    Future<RowSet<Row>> runBuckets = pool.preparedQuery(UsageSql.RUN_BUCKETS).execute(params);
    return Future.all(totals, errors, latency, runTotals, runBuckets).map(all -> {
      Map<UUID, UsageReport.RunUsage> runsByKey = runsByKey(runTotals.result(), runBuckets.result());
      Map<UUID, UsageReport.KeyUsage> keys = new LinkedHashMap<>();
      Map<UUID, Map<String, Long>> errorsByKey = new HashMap<>();
      Map<UUID, long[]> latencyByKey = new HashMap<>();
      for (Row row : errors.result()) {
        errorsByKey.computeIfAbsent(row.getUUID("api_key_id"), k -> new TreeMap<>())
            .put(row.getString("code"), row.getLong("n"));
      }
      for (Row row : latency.result()) {
        long[] counts = latencyByKey.computeIfAbsent(row.getUUID("api_key_id"),
            k -> new long[LatencyHistogram.BUCKETS]);
        add(counts, row.getInteger("i") - 1, row.getLong("n"));
      }
      for (Row row : totals.result()) {
        UUID key = row.getUUID("api_key_id");
        OffsetDateTime last = row.getOffsetDateTime("last_call_at");
        keys.put(key, new UsageReport.KeyUsage(key, row.getLong("calls"),
            errorsByKey.getOrDefault(key, Map.of()), latencyByKey.getOrDefault(key, new long[0]),
            row.getDouble("latency_sum_ms"), last == null ? null : last.toInstant(),
            runsByKey.getOrDefault(key, UsageReport.RunUsage.NONE)));
      }
      UsageReport.RunUsage withoutKey = runsByKey.getOrDefault(null, UsageReport.RunUsage.NONE);
      // A key may have runs that ended in the window and no call in it (triggered just before it began).
      runsByKey.forEach((key, runs) -> {
        if (key != null && !keys.containsKey(key)) {
          keys.put(key, new UsageReport.KeyUsage(key, 0, Map.of(), new long[0], 0, null, runs));
        }
      });
      return new UsageReport(deploymentId, window, from, to, new ArrayList<>(keys.values()), withoutKey);
    });
  }

  /** The queued runs per key; the null key holds the runs recorded without one. */
  private static Map<UUID, UsageReport.RunUsage> runsByKey(RowSet<Row> totals, RowSet<Row> buckets) {
    Map<UUID, long[]> waits = new HashMap<>();
    Map<UUID, long[]> executions = new HashMap<>();
    for (Row row : buckets) {
      Map<UUID, long[]> kind = "queue_wait".equals(row.getString("kind")) ? waits : executions;
      add(kind.computeIfAbsent(row.getUUID("api_key_id"), k -> new long[LatencyHistogram.BUCKETS]),
          row.getInteger("i") - 1, row.getLong("n"));
    }
    Map<UUID, UsageReport.RunUsage> runs = new LinkedHashMap<>();
    for (Row row : totals) {
      UUID key = row.getUUID("api_key_id");
      runs.put(key, new UsageReport.RunUsage(row.getLong("runs"), waits.getOrDefault(key, new long[0]),
          row.getDouble("queue_wait_sum_ms"), executions.getOrDefault(key, new long[0]),
          row.getDouble("execution_sum_ms")));
    }
    return runs;
  }

  private static void add(long[] counts, int index, long n) {
    if (index >= 0 && index < counts.length) {
      counts[index] += n;
    }
  }

  /** A PostgreSQL array literal of whole numbers: {@code {1,0,3}}. */
  private static String arrayLiteral(long[] values) {
    StringBuilder s = new StringBuilder(values.length * 2 + 2).append('{');
    for (int i = 0; i < values.length; i++) {
      if (i > 0) {
        s.append(',');
      }
      s.append(values[i]);
    }
    return s.append('}').toString();
  }

  private static OffsetDateTime odt(long epochMs) {
    return Instant.ofEpochMilli(epochMs).atOffset(ZoneOffset.UTC);
  }
}
