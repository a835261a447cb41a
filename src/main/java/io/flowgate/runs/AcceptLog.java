package io.flowgate.runs;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * PostgreSQL's record that a run was accepted, written before its 202 is sent: the promise "a 202 is never lost"
 * rests on it (Redis may lose its state; the reconciler re-enqueues from here). Accepts are group-committed: while
 * a few transactions are in flight, new accepts gather and go together in the next one, so one fsync covers many
 * runs under load and an idle gateway still writes at once. Thread-safe; each caller's future completes on its own
 * context.
 */
final class AcceptLog {
  private static final String INSERT = """
      INSERT INTO run_history (id, profile_id, deployment_id, flow_id, flow_version, execution_mode, deployment_type,
        status, node_id, created_at, input_data, deadline_at, origin_node, request_id)
      VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $9, $10, $11, $8, $12)
      ON CONFLICT (id) DO NOTHING
      """;
  private static final int MAX_BATCH = 500;
  private static final int MAX_IN_FLIGHT = 3;

  private final Vertx vertx;
  private final Pool pool;
  private final String nodeId;
  private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger inFlight = new AtomicInteger();

  AcceptLog(Vertx vertx, Pool pool, String nodeId) {
    this.vertx = vertx;
    this.pool = pool;
    this.nodeId = nodeId;
  }

  private record Pending(Tuple row, Promise<Void> promise, Context context) {}

  /** Records the run as accepted; completes once it is committed. */
  Future<Void> append(Run run, JsonObject input, long deadlineEpochMs, String requestId) {
    Tuple row = Tuple.tuple()
        .addUUID(UUID.fromString(run.id()))
        .addUUID(run.profileId())
        .addUUID(run.deploymentId())
        .addUUID(run.flowId())
        .addInteger(run.flowVersion())
        .addString(run.mode())
        .addString(run.type())
        .addString(nodeId)
        .addOffsetDateTime(run.createdAt().atOffset(ZoneOffset.UTC))
        .addValue(input)
        .addOffsetDateTime(java.time.Instant.ofEpochMilli(deadlineEpochMs).atOffset(ZoneOffset.UTC))
        .addString(requestId);
    Promise<Void> promise = Promise.promise();
    queue.add(new Pending(row, promise, vertx.getOrCreateContext()));
    flush();
    return promise.future();
  }

  private void flush() {
    while (!queue.isEmpty()) {
      if (inFlight.incrementAndGet() > MAX_IN_FLIGHT) {
        inFlight.decrementAndGet();
        return;
      }
      List<Pending> batch = new ArrayList<>();
      for (Pending p; batch.size() < MAX_BATCH && (p = queue.poll()) != null; ) {
        batch.add(p);
      }
      if (batch.isEmpty()) {
        inFlight.decrementAndGet();
        return;
      }
      List<Tuple> rows = new ArrayList<>(batch.size());
      for (Pending p : batch) {
        rows.add(p.row());
      }
      pool.withTransaction(conn -> conn.preparedQuery(INSERT).executeBatch(rows))
          .onComplete(ar -> {
            for (Pending p : batch) {
              p.context().runOnContext(v -> {
                if (ar.succeeded()) {
                  p.promise().tryComplete();
                } else {
                  p.promise().tryFail(ar.cause());
                }
              });
            }
            inFlight.decrementAndGet();
            flush();
          });
    }
  }
}
