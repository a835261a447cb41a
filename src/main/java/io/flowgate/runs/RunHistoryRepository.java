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
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable history of runs in PostgreSQL, written in batches off the hot path: ended runs are queued in memory and
 * flushed every few hundred milliseconds in one batched statement. A failed flush keeps its rows for the next one;
 * the buffer is bounded. Thread-safe.
 */
public final class RunHistoryRepository {
  private static final Logger LOG = LoggerFactory.getLogger(RunHistoryRepository.class);
  // Bounded so that a PostgreSQL outage costs history rows, never the heap (a full heap stalls the whole gateway).
  private static final int MAX_BUFFERED = 50_000;
  private static final String WITHDRAW = """
      UPDATE run_history SET status = 'failed', error = $2, finished_at = now() WHERE id = $1 AND status = 'queued'
      """;
  // One statement per flush whatever its size: the rows travel as one array per column (jsonb as text, cast here).
  private static final String UPSERT = """
      INSERT INTO run_history (id, profile_id, deployment_id, flow_id, flow_version, execution_mode, deployment_type,
        status, error, node_id, created_at, started_at, finished_at, duration_ms, output_data, node_outputs,
        api_key_id)
      SELECT id, profile_id, deployment_id, flow_id, flow_version, execution_mode, deployment_type, status,
        error::jsonb, $10::text, created_at, started_at, finished_at, duration_ms, output_data::jsonb,
        node_outputs::jsonb, api_key_id
      FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::int[], $6::text[], $7::text[], $8::text[],
        $9::text[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[], $14::float8[], $15::text[],
        $16::text[], $17::uuid[])
        AS u(id, profile_id, deployment_id, flow_id, flow_version, execution_mode, deployment_type, status, error,
          created_at, started_at, finished_at, duration_ms, output_data, node_outputs, api_key_id)
      ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, error = EXCLUDED.error, node_id = EXCLUDED.node_id,
        started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms,
        output_data = EXCLUDED.output_data, node_outputs = EXCLUDED.node_outputs,
        api_key_id = coalesce(EXCLUDED.api_key_id, run_history.api_key_id)
      """;
  private static final String FIND = """
      SELECT id, profile_id, deployment_id, flow_id, flow_version, execution_mode, deployment_type, status, error,
        created_at, started_at, finished_at, output_data, node_outputs, api_key_id
      FROM run_history WHERE id = $1
      """;

  private final Vertx vertx;
  private final Pool pool;
  private final String nodeId;
  private final int batchSize;
  private final ConcurrentLinkedQueue<Row> pending = new ConcurrentLinkedQueue<>();
  private final AtomicInteger size = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicLong lastDropWarning = new java.util.concurrent.atomic.AtomicLong(
      System.nanoTime() - 20_000_000_000L);
  private long timerId = -1;
  private final AtomicBoolean flushing = new AtomicBoolean();
  private final Consumer<Run> ended;

  public RunHistoryRepository(Vertx vertx, Pool pool, String nodeId, int batchSize) {
    this(vertx, pool, nodeId, batchSize, null);
  }

  /** With {@code ended} (may be null) told of every ended run this node records, as it is recorded. */
  public RunHistoryRepository(Vertx vertx, Pool pool, String nodeId, int batchSize, Consumer<Run> ended) {
    this.vertx = vertx;
    this.pool = pool;
    this.nodeId = nodeId;
    this.batchSize = batchSize;
    this.ended = ended;
  }

  /** Starts the periodic flush. */
  public void start(Duration every) {
    timerId = vertx.setPeriodic(every.toMillis(), t -> flush());
  }

  /**
   * Queues an ended run for the next flush. Never blocks, never fails. The run is kept as its row, its JSON encoded
   * now. A run waits up to a flush interval here, past a young collection or two under load. Kept as the run, its
   * outputs' object trees (maps, lists, boxed numbers) were copied through the survivor spaces and, once those
   * overflowed, promoted: 7-10 full collections per 10 s under the sync load, against 1-5 as rows (bench/RESULTS.md).
   * A failed flush queues its rows again without telling {@code ended} a second time.
   */
  public void record(Run run) {
    record(run, Row.of(run));
  }

  /**
   * {@link #record(Run)} with the run's output, node outputs and error as the JSON text they were encoded to already
   * (its wire form), so that they are not encoded a second time.
   */
  public void record(Run run, String output, String nodes, String error) {
    record(run, Row.of(run, output, nodes, error));
  }

  private void record(Run run, Row row) {
    queue(row);
    if (ended != null && run.status().terminal()) {
      ended.accept(run);
    }
  }

  private void queue(Row row) {
    if (size.incrementAndGet() > MAX_BUFFERED) {
      pending.poll();
      size.decrementAndGet();
      long now = System.nanoTime();
      long last = lastDropWarning.get();
      if (now - last > 10_000_000_000L && lastDropWarning.compareAndSet(last, now)) {
        LOG.warn("run history buffer full ({} runs): dropping the oldest entries (is PostgreSQL reachable?)",
            MAX_BUFFERED);
      }
    }
    pending.add(row);
  }

  /** Writes what is queued; completes when written (or failed, rows kept). */
  public Future<Void> flush() {
    if (pending.isEmpty() || !flushing.compareAndSet(false, true)) {
      return Future.succeededFuture();
    }
    List<Row> batch = new ArrayList<>();
    for (Row r; batch.size() < batchSize && (r = pending.poll()) != null; ) {
      batch.add(r);
    }
    size.addAndGet(-batch.size());
    Tuple rows = rows(batch);
    // Committed without waiting for its WAL to reach the disk: a history batch is hundreds of rows of WAL, and
    // accepted runs' commits (synchronous: the 202 promise) queued behind its flush. It is not what a promise rests
    // on: a batch lost to an OS crash (the last ~0.6 s, three wal_writer_delay) leaves its runs open in PostgreSQL,
    // and the reconciler records them again from Redis, which saw them end.
    return pool.withTransaction(c -> c.query("SET LOCAL synchronous_commit TO OFF").execute()
            .compose(x -> c.preparedQuery(UPSERT).execute(rows)))
        .<Void>mapEmpty()
        .onFailure(e -> {
          LOG.warn("writing {} run history rows failed, will retry: {}", batch.size(), e.getMessage());
          for (Row r : batch) {
            queue(r);
          }
        })
        .andThen(ar -> flushing.set(false))
        .compose(v -> pending.isEmpty() ? Future.succeededFuture() : flush(), e -> Future.succeededFuture());
  }

  /** One run's history row, as the flush writes it (times as the run's own instants: 24 bytes, an offset one 96). */
  private record Row(java.util.UUID id, java.util.UUID profileId, java.util.UUID deploymentId, java.util.UUID flowId,
      Integer flowVersion, String mode, String type, String status, String error, java.time.Instant created,
      java.time.Instant started, java.time.Instant finished, Double durationMs, String output, String nodes,
      java.util.UUID apiKeyId) {
    static Row of(Run r) {
      return of(r, encode(r.outputData()), encode(r.nodeOutputs()), encode(r.error()));
    }

    static Row of(Run r, String output, String nodes, String error) {
      Double seconds = r.durationSeconds();
      return new Row(java.util.UUID.fromString(r.id()), r.profileId(), r.deploymentId(), r.flowId(), r.flowVersion(),
          r.mode(), r.type(), r.status().wire(), error, r.createdAt(), r.startedAt(), r.finishedAt(),
          seconds == null ? null : seconds * 1000, output, nodes, r.apiKeyId());
    }
  }

  /**
   * The batch as one array per column. A run recorded twice in one batch keeps its last record, as statements run
   * in order would (one INSERT … ON CONFLICT cannot touch a row twice).
   */
  private Tuple rows(List<Row> batch) {
    java.util.Map<java.util.UUID, Row> last = new java.util.LinkedHashMap<>();
    for (Row r : batch) {
      last.put(r.id(), r);
    }
    int n = last.size();
    java.util.UUID[] ids = new java.util.UUID[n];
    java.util.UUID[] profiles = new java.util.UUID[n];
    java.util.UUID[] deployments = new java.util.UUID[n];
    java.util.UUID[] flows = new java.util.UUID[n];
    Integer[] versions = new Integer[n];
    String[] modes = new String[n];
    String[] types = new String[n];
    String[] statuses = new String[n];
    String[] errors = new String[n];
    OffsetDateTime[] created = new OffsetDateTime[n];
    OffsetDateTime[] started = new OffsetDateTime[n];
    OffsetDateTime[] finished = new OffsetDateTime[n];
    Double[] durations = new Double[n];
    String[] outputs = new String[n];
    String[] nodes = new String[n];
    java.util.UUID[] keys = new java.util.UUID[n];
    int i = 0;
    for (Row r : last.values()) {
      ids[i] = r.id();
      profiles[i] = r.profileId();
      deployments[i] = r.deploymentId();
      flows[i] = r.flowId();
      versions[i] = r.flowVersion();
      modes[i] = r.mode();
      types[i] = r.type();
      statuses[i] = r.status();
      errors[i] = r.error();
      created[i] = odt(r.created());
      started[i] = odt(r.started());
      finished[i] = odt(r.finished());
      durations[i] = r.durationMs();
      outputs[i] = r.output();
      nodes[i] = r.nodes();
      keys[i] = r.apiKeyId();
      i++;
    }
    return Tuple.tuple().addArrayOfUUID(ids).addArrayOfUUID(profiles).addArrayOfUUID(deployments)
        .addArrayOfUUID(flows).addArrayOfInteger(versions).addArrayOfString(modes).addArrayOfString(types)
        .addArrayOfString(statuses).addArrayOfString(errors).addString(nodeId).addArrayOfOffsetDateTime(created)
        .addArrayOfOffsetDateTime(started).addArrayOfOffsetDateTime(finished).addArrayOfDouble(durations)
        .addArrayOfString(outputs).addArrayOfString(nodes).addArrayOfUUID(keys);
  }

  private static String encode(JsonObject json) {
    return json == null ? null : json.encode();
  }

  /** Marks an accept whose caller was refused (503) as not accepted, at once, so that no reconciler runs it. */
  public Future<Void> markNotAccepted(String runId, String reason) {
    return pool.preparedQuery(WITHDRAW)
        .execute(Tuple.of(java.util.UUID.fromString(runId), new JsonObject().put("message", reason)))
        .mapEmpty();
  }

  /** An accepted run that PostgreSQL does not know to have ended, with what it takes to queue it again. */
  public record OpenRun(Run run, JsonObject input, String originNode, long deadlineEpochMs) {}

  private static final String OPEN = """
      SELECT id, profile_id, deployment_id, flow_id, flow_version, execution_mode, deployment_type, status, created_at,
        input_data, origin_node, deadline_at, api_key_id
      FROM run_history WHERE status IN ('queued', 'running') AND created_at < $1
      ORDER BY created_at LIMIT $2
      """;

  /** Open runs accepted before {@code cutoff}, oldest first. */
  public Future<List<OpenRun>> openRuns(java.time.Instant cutoff, int limit) {
    return pool.preparedQuery(OPEN).execute(Tuple.of(odt(cutoff), limit)).map(rows -> {
      List<OpenRun> open = new ArrayList<>();
      for (io.vertx.sqlclient.Row row : rows) {
        Run run = new Run(row.getUUID("id").toString(), row.getUUID("profile_id"), row.getUUID("deployment_id"),
            row.getUUID("flow_id"), row.getInteger("flow_version"), row.getString("execution_mode"),
            row.getString("deployment_type"), RunStatus.fromWire(row.getString("status")),
            instant(row.getOffsetDateTime("created_at")), null, null, null, null, null, row.getUUID("api_key_id"));
        OffsetDateTime deadline = row.getOffsetDateTime("deadline_at");
        open.add(new OpenRun(run, json(row.getValue("input_data")), row.getString("origin_node") == null ? ""
            : row.getString("origin_node"), deadline == null ? Long.MAX_VALUE : deadline.toInstant().toEpochMilli()));
      }
      return open;
    });
  }

  /** The run as PostgreSQL recorded it (after its Redis state expired), or null. */
  public Future<Run> find(String runId) {
    return pool.preparedQuery(FIND).execute(Tuple.of(java.util.UUID.fromString(runId))).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      io.vertx.sqlclient.Row row = rows.iterator().next();
      return new Run(runId, row.getUUID("profile_id"), row.getUUID("deployment_id"), row.getUUID("flow_id"),
          row.getInteger("flow_version"), row.getString("execution_mode"), row.getString("deployment_type"),
          RunStatus.fromWire(row.getString("status")), instant(row.getOffsetDateTime("created_at")),
          instant(row.getOffsetDateTime("started_at")), instant(row.getOffsetDateTime("finished_at")),
          json(row.getValue("output_data")), json(row.getValue("node_outputs")), json(row.getValue("error")),
          row.getUUID("api_key_id"));
    });
  }

  private static java.time.Instant instant(OffsetDateTime t) {
    return t == null ? null : t.toInstant();
  }

  private static JsonObject json(Object value) {
    return value instanceof JsonObject o ? o : null;
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
