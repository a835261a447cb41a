package io.flowgate.usage;

import io.flowgate.metrics.GatewayMetrics;
import io.flowgate.runs.Run;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's share of the usage of deployments, counted in memory and written to PostgreSQL in batches, never per
 * request. Calls are counted per deployment, API key and minute (count, errors by code, a latency histogram, the last
 * call); runs that waited in the queue (or ran in the background) per deployment, the API key that triggered them and
 * the minute they ended (queue wait and execution histograms), whichever node accepted them. Every {@code usage.flush_ms} the minutes that changed are written as this writer's running totals (a
 * row per writer and minute, replaced: a retried write never counts twice); a minute is forgotten once it is over and
 * written. A node that dies loses at most one interval. Thread-safe: {@link #call} runs on every event loop.
 */
public final class UsageRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(UsageRecorder.class);
  private static final long MINUTE_MS = 60_000;
  private static final long RETENTION_EVERY_MS = 3_600_000;
  // Stands for "no key" in the maps (which take no null): runs recorded before runs carried their key.
  private static final UUID NO_KEY = new UUID(0, 0);

  private final Vertx vertx;
  private final UsageRepository repository;
  private final String writer;
  private final GatewayMetrics metrics;
  private final Duration retention;
  private final Map<UUID, Map<UUID, Series<CallBucket>>> calls = new ConcurrentHashMap<>();
  private final Map<UUID, Map<UUID, Series<RunBucket>>> runs = new ConcurrentHashMap<>();
  private final AtomicReference<Future<Void>> tail = new AtomicReference<>(Future.succeededFuture());
  private long lastRetention;
  private long timerId = -1;

  /**
   * {@code nodeId} names this node's rows (with a suffix of this process, so a restarted node does not replace the
   * rows its previous life wrote); rows older than {@code retention} are deleted now and then.
   */
  public UsageRecorder(Vertx vertx, UsageRepository repository, String nodeId, GatewayMetrics metrics,
      Duration retention) {
    this.vertx = vertx;
    this.repository = repository;
    this.writer = nodeId + "~" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffL);
    this.metrics = metrics;
    this.retention = retention;
  }

  /** Starts the periodic write. */
  public void start(Duration every) {
    timerId = vertx.setPeriodic(every.toMillis(), t -> tick());
  }

  /**
   * Counts one call of {@code deploymentId} with {@code keyId} that was answered after {@code latencyNanos};
   * {@code errorCode} is the problem's code, or null for a success. Never blocks, never fails.
   */
  public void call(UUID deploymentId, UUID keyId, String errorCode, long latencyNanos) {
    long now = System.currentTimeMillis();
    series(calls, deploymentId, keyId).bucket(now / MINUTE_MS * MINUTE_MS, CallBucket::new)
        .add(errorCode, latencyNanos / 1e6, now);
  }

  /** The series of a deployment and key ({@code keyId} may be null: no key), created on first use. */
  private static <B extends Bucket> Series<B> series(Map<UUID, Map<UUID, Series<B>>> all, UUID deploymentId,
      UUID keyId) {
    // get before computeIfAbsent: a hit (the common case) takes no lock.
    Map<UUID, Series<B>> byKey = all.get(deploymentId);
    if (byKey == null) {
      byKey = all.computeIfAbsent(deploymentId, d -> new ConcurrentHashMap<>());
    }
    UUID slot = keyId == null ? NO_KEY : keyId;
    Series<B> series = byKey.get(slot);
    if (series == null) {
      series = byKey.computeIfAbsent(slot, k -> new Series<>(deploymentId, keyId));
    }
    return series;
  }

  /**
   * Counts the timings of an ended run if it waited in the queue or ran in the background (api-type deployments, and
   * async runs): from acceptance to start, and from start to end, under the key that triggered it (the run carries
   * it). Runs executed inline for a sync caller have no wait and are not counted here. Never blocks, never fails.
   */
  public void runEnded(Run run) {
    boolean queued = "api".equals(run.type()) || "async".equals(run.mode());
    if (!queued || run.createdAt() == null || run.startedAt() == null || run.finishedAt() == null) {
      return;
    }
    Duration wait = Duration.between(run.createdAt(), run.startedAt());
    Duration execution = Duration.between(run.startedAt(), run.finishedAt());
    if (wait.isNegative()) {
      wait = Duration.ZERO;
    }
    if (execution.isNegative()) {
      execution = Duration.ZERO;
    }
    metrics.runTimings(run.mode(), run.type(), wait, execution);
    long now = System.currentTimeMillis();
    series(runs, run.deploymentId(), run.apiKeyId()).bucket(now / MINUTE_MS * MINUTE_MS, RunBucket::new)
        .add(wait.toNanos() / 1e6, execution.toNanos() / 1e6);
  }

  /**
   * Writes every minute that changed since its last write; completes when done (a failure is logged and retried by
   * the next write). Writes run one at a time: one asked for while another is under way runs after it, so that a
   * caller (a usage report) sees every count made before it asked.
   */
  public Future<Void> flush() {
    Promise<Void> done = Promise.promise();
    Future<Void> before = tail.getAndSet(done.future());
    before.onComplete(ar -> {
      Future<Void> writing;
      try {
        writing = write();
      } catch (RuntimeException e) {
        // Never leave the chain of writes stuck: the next write starts over from the counts.
        LOG.warn("writing usage failed: {}", e.toString());
        writing = Future.succeededFuture();
      }
      writing.onComplete(x -> done.complete());
    });
    return done.future();
  }

  private void tick() {
    // A write still under way (PostgreSQL slow or down) is not queued behind: the next tick catches up.
    if (tail.get().isComplete()) {
      flush();
    }
  }

  private Future<Void> write() {
    List<Written> written = new ArrayList<>();
    List<UsageRepository.CallRow> callRows = changed(calls, CallBucket::row, written);
    List<UsageRepository.RunRow> runRows = changed(runs, RunBucket::row, written);
    long now = System.currentTimeMillis();
    boolean prune = now - lastRetention > RETENTION_EVERY_MS;
    Future<Void> rows = callRows.isEmpty() && runRows.isEmpty() ? Future.succeededFuture()
        : repository.write(writer, callRows, runRows);
    return rows
        .onSuccess(v -> {
          for (Written w : written) {
            w.bucket.written = w.version;
          }
          forgetPastMinutes(now);
        })
        .compose(v -> {
          if (!prune) {
            return Future.<Void>succeededFuture();
          }
          lastRetention = now;
          return repository.deleteBefore(Instant.ofEpochMilli(now).minus(retention));
        })
        .onFailure(e -> LOG.warn("writing usage ({} minutes) failed, will retry: {}", written.size(), e.getMessage()))
        .recover(e -> Future.succeededFuture());
  }

  /** The rows of the buckets that changed since they were last written; each noted in {@code written}. */
  private static <B extends Bucket, R> List<R> changed(Map<UUID, Map<UUID, Series<B>>> all, RowOf<B, R> rowOf,
      List<Written> written) {
    List<R> rows = new ArrayList<>();
    for (Map<UUID, Series<B>> byKey : all.values()) {
      for (Series<B> series : byKey.values()) {
        for (B b : series.buckets.values()) {
          long version = b.version.get();
          if (version != b.written) {
            rows.add(rowOf.row(b, series.deploymentId, series.keyId));
            written.add(new Written(b, version));
          }
        }
      }
    }
    return rows;
  }

  /** Drops the buckets of minutes that are over (with a minute's grace for late callers) and fully written. */
  private void forgetPastMinutes(long now) {
    long cutoff = now / MINUTE_MS * MINUTE_MS - MINUTE_MS;
    forgetBefore(calls, cutoff);
    forgetBefore(runs, cutoff);
  }

  private static <B extends Bucket> void forgetBefore(Map<UUID, Map<UUID, Series<B>>> all, long cutoff) {
    for (Map<UUID, Series<B>> byKey : all.values()) {
      for (Series<B> series : byKey.values()) {
        series.forgetBefore(cutoff);
      }
    }
  }

  /** Stops the timer and writes what is left. */
  public Future<Void> close() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
    return flush();
  }

  private record Written(Bucket bucket, long version) {}

  /** The row a bucket of a deployment and key is written as. */
  private interface RowOf<B, R> {
    R row(B bucket, UUID deploymentId, UUID keyId);
  }

  /** One deployment (and key) with its open minutes; {@code current} is the latest, read without a map lookup. */
  private static final class Series<B extends Bucket> {
    final UUID deploymentId;
    final UUID keyId;
    final Map<Long, B> buckets = new ConcurrentHashMap<>();
    volatile B current;

    Series(UUID deploymentId, UUID keyId) {
      this.deploymentId = deploymentId;
      this.keyId = keyId;
    }

    B bucket(long minute, LongFunction<B> create) {
      B b = current;
      if (b != null && b.minute == minute) {
        return b;
      }
      b = buckets.computeIfAbsent(minute, create::apply);
      B latest = current;
      if (latest == null || latest.minute < minute) {
        current = b;
      }
      return b;
    }

    void forgetBefore(long cutoff) {
      buckets.values().removeIf(b -> b.minute < cutoff && b.written == b.version.get());
    }
  }

  /** A minute of counts; {@code version} moves with every count, {@code written} is the version last written. */
  private abstract static class Bucket {
    final long minute;
    final AtomicLong version = new AtomicLong();
    volatile long written;

    Bucket(long minute) {
      this.minute = minute;
    }
  }

  private static final class CallBucket extends Bucket {
    final LongAdder calls = new LongAdder();
    final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    final AtomicLongArray latency = new AtomicLongArray(LatencyHistogram.BUCKETS);
    final DoubleAdder latencySumMs = new DoubleAdder();
    final AtomicLong lastCallMs = new AtomicLong();

    CallBucket(long minute) {
      super(minute);
    }

    void add(String errorCode, double latencyMs, long nowMs) {
      calls.increment();
      if (errorCode != null) {
        errors.computeIfAbsent(errorCode, c -> new LongAdder()).increment();
      }
      latency.incrementAndGet(LatencyHistogram.bucket(latencyMs));
      latencySumMs.add(latencyMs);
      lastCallMs.accumulateAndGet(nowMs, Math::max);
      version.incrementAndGet();
    }

    UsageRepository.CallRow row(UUID deploymentId, UUID keyId) {
      Map<String, Long> errorCounts = new TreeMap<>();
      errors.forEach((code, n) -> errorCounts.put(code, n.sum()));
      return new UsageRepository.CallRow(deploymentId, keyId, minute, calls.sum(), errorCounts, snapshot(latency),
          latencySumMs.sum(), lastCallMs.get());
    }
  }

  private static final class RunBucket extends Bucket {
    final LongAdder runs = new LongAdder();
    final AtomicLongArray queueWait = new AtomicLongArray(LatencyHistogram.BUCKETS);
    final DoubleAdder queueWaitSumMs = new DoubleAdder();
    final AtomicLongArray execution = new AtomicLongArray(LatencyHistogram.BUCKETS);
    final DoubleAdder executionSumMs = new DoubleAdder();

    RunBucket(long minute) {
      super(minute);
    }

    void add(double waitMs, double executionMs) {
      runs.increment();
      queueWait.incrementAndGet(LatencyHistogram.bucket(waitMs));
      queueWaitSumMs.add(waitMs);
      execution.incrementAndGet(LatencyHistogram.bucket(executionMs));
      executionSumMs.add(executionMs);
      version.incrementAndGet();
    }

    UsageRepository.RunRow row(UUID deploymentId, UUID keyId) {
      return new UsageRepository.RunRow(deploymentId, keyId, minute, runs.sum(), snapshot(queueWait),
          queueWaitSumMs.sum(), snapshot(execution), executionSumMs.sum());
    }
  }

  private static long[] snapshot(AtomicLongArray counts) {
    long[] copy = new long[counts.length()];
    for (int i = 0; i < copy.length; i++) {
      copy[i] = counts.get(i);
    }
    return LatencyHistogram.trimmed(copy);
  }
}
