package io.flowgate.runs;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable history of runs in PostgreSQL, written in batches off the hot path: ended runs are queued in memory and
 * flushed every few hundred milliseconds in one batched statement. A failed flush keeps its rows for the next one;
 * the buffer is bounded. Thread-safe.
 */
public final class RunHistoryRepository {
  private static final Logger LOG = LoggerFactory.getLogger(RunHistoryRepository.class);
  private static final int MAX_BUFFERED = 200_000;
  private static final String UPSERT = """
      INSERT INTO run_history (id, profile_id, deployment_id, flow_id, flow_version, execution_mode, deployment_type,
        status, error, node_id, created_at, started_at, finished_at, duration_ms)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
      ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, error = EXCLUDED.error,
        started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms
      """;

  private final Vertx vertx;
  private final Pool pool;
  private final String nodeId;
  private final int batchSize;
  private final ConcurrentLinkedQueue<Run> pending = new ConcurrentLinkedQueue<>();
  private final AtomicInteger size = new AtomicInteger();
  private long timerId = -1;
  private final AtomicBoolean flushing = new AtomicBoolean();

  public RunHistoryRepository(Vertx vertx, Pool pool, String nodeId, int batchSize) {
    this.vertx = vertx;
    this.pool = pool;
    this.nodeId = nodeId;
    this.batchSize = batchSize;
  }

  /** Starts the periodic flush. */
  public void start(Duration every) {
    timerId = vertx.setPeriodic(every.toMillis(), t -> flush());
  }

  /** Queues an ended run for the next flush. Never blocks, never fails. */
  public void record(Run run) {
    if (size.incrementAndGet() > MAX_BUFFERED) {
      pending.poll();
      size.decrementAndGet();
      LOG.warn("run history buffer full: dropping the oldest entry (is PostgreSQL reachable?)");
    }
    pending.add(run);
  }

  /** Writes what is queued; completes when written (or failed, rows kept). */
  public Future<Void> flush() {
    if (pending.isEmpty() || !flushing.compareAndSet(false, true)) {
      return Future.succeededFuture();
    }
    List<Run> batch = new ArrayList<>();
    for (Run r; batch.size() < batchSize && (r = pending.poll()) != null; ) {
      batch.add(r);
    }
    size.addAndGet(-batch.size());
    List<Tuple> rows = new ArrayList<>(batch.size());
    for (Run r : batch) {
      JsonObject error = r.error();
      rows.add(Tuple.tuple()
          .addUUID(java.util.UUID.fromString(r.id()))
          .addUUID(r.profileId())
          .addUUID(r.deploymentId())
          .addUUID(r.flowId())
          .addInteger(r.flowVersion())
          .addString(r.mode())
          .addString(r.type())
          .addString(r.status().wire())
          .addValue(error)
          .addString(nodeId)
          .addOffsetDateTime(odt(r.createdAt()))
          .addOffsetDateTime(odt(r.startedAt()))
          .addOffsetDateTime(odt(r.finishedAt()))
          .addDouble(r.durationSeconds() == null ? null : r.durationSeconds() * 1000));
    }
    return pool.preparedQuery(UPSERT).executeBatch(rows)
        .<Void>mapEmpty()
        .onFailure(e -> {
          LOG.warn("writing {} run history rows failed, will retry: {}", batch.size(), e.getMessage());
          for (Run r : batch) {
            record(r);
          }
        })
        .andThen(ar -> flushing.set(false))
        .compose(v -> pending.isEmpty() ? Future.succeededFuture() : flush(), e -> Future.succeededFuture());
  }

  private static OffsetDateTime odt(java.time.Instant i) {
    return i == null ? null : i.atOffset(ZoneOffset.UTC);
  }

  /** Stops the timer and writes what is left. */
  public Future<Void> close() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
    return flush();
  }
}
