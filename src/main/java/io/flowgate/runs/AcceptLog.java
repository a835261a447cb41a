package io.flowgate.runs;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
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
  // One statement per batch (arrays unnested), not one per run: a batch is one round trip and one commit.
  private static final String INSERT = """
      INSERT INTO run_history (id, profile_id, deployment_id, flow_id, flow_version, execution_mode, deployment_type,
        status, node_id, created_at, input_data, deadline_at, origin_node, request_id, api_key_id)
      SELECT id, profile_id, deployment_id, flow_id, flow_version, execution_mode, deployment_type, 'queued', $8::text,
        created_at, input_data::jsonb, deadline_at, $8::text, request_id, api_key_id
      FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::int[], $6::text[], $7::text[],
        $9::timestamptz[], $10::text[], $11::timestamptz[], $12::text[], $13::uuid[])
        AS u(id, profile_id, deployment_id, flow_id, flow_version, execution_mode, deployment_type, created_at,
          input_data, deadline_at, request_id, api_key_id)
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

  private record Pending(Row row, Promise<Void> promise, Context context) {}

  /** One accepted run's columns. */
  private record Row(UUID id, UUID profileId, UUID deploymentId, UUID flowId, Integer flowVersion, String mode,
      String type, OffsetDateTime created, String input, OffsetDateTime deadline, String requestId, UUID apiKeyId) {}

  /** Records the run as accepted, {@code input} as its JSON text; completes once it is committed. */
  Future<Void> append(Run run, String input, long deadlineEpochMs, String requestId) {
    Row row = new Row(UUID.fromString(run.id()), run.profileId(), run.deploymentId(), run.flowId(), run.flowVersion(),
        run.mode(), run.type(), run.createdAt().atOffset(ZoneOffset.UTC), input,
        java.time.Instant.ofEpochMilli(deadlineEpochMs).atOffset(ZoneOffset.UTC), requestId, run.apiKeyId());
    Promise<Void> promise = Promise.promise();
    queue.add(new Pending(row, promise, vertx.getOrCreateContext()));
    flush();
    return promise.future();
  }

  private Tuple arrays(List<Pending> batch) {
    int n = batch.size();
    UUID[] ids = new UUID[n];
    UUID[] profiles = new UUID[n];
    UUID[] deployments = new UUID[n];
    UUID[] flows = new UUID[n];
    Integer[] versions = new Integer[n];
    String[] modes = new String[n];
    String[] types = new String[n];
    OffsetDateTime[] created = new OffsetDateTime[n];
    String[] inputs = new String[n];
    OffsetDateTime[] deadlines = new OffsetDateTime[n];
    String[] requests = new String[n];
    UUID[] keys = new UUID[n];
    for (int i = 0; i < n; i++) {
      Row r = batch.get(i).row();
      ids[i] = r.id();
      profiles[i] = r.profileId();
      deployments[i] = r.deploymentId();
      flows[i] = r.flowId();
      versions[i] = r.flowVersion();
      modes[i] = r.mode();
      types[i] = r.type();
      created[i] = r.created();
      inputs[i] = r.input();
      deadlines[i] = r.deadline();
      requests[i] = r.requestId();
      keys[i] = r.apiKeyId();
    }
    return Tuple.tuple().addArrayOfUUID(ids).addArrayOfUUID(profiles).addArrayOfUUID(deployments)
        .addArrayOfUUID(flows).addArrayOfInteger(versions).addArrayOfString(modes).addArrayOfString(types)
        .addString(nodeId).addArrayOfOffsetDateTime(created).addArrayOfString(inputs)
        .addArrayOfOffsetDateTime(deadlines).addArrayOfString(requests).addArrayOfUUID(keys);
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
      pool.preparedQuery(INSERT).execute(arrays(batch))
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
