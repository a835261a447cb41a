package io.flowgate.runs;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.backends.LuaScript;
import io.flowgate.webhooks.WebhookEvents;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Run state in Redis, where every status change is one Lua script so that a run has exactly one terminal transition
 * however many workers, timeouts and cancels race for it. The writes that check nothing (a new run queued, and the one
 * write of a plain sync {@code server} run, whose id nobody knows yet) are {@code MULTI}/{@code EXEC} transactions
 * instead, one per event-loop turn for all the runs of that turn ({@link LoopTransaction}).
 *
 * <ul>
 *   <li>{@code <prefix>run:<id>}: one hash per run, expiring after the retention TTL once the run has ended.</li>
 *   <li>{@code <prefix>runs}: the run queue, a stream read by the consumer group {@code workers}. A worker
 *       acknowledges and deletes the entry when it starts the run; from then on the run is protected by its lease.</li>
 *   <li>{@code <prefix>leases}: running runs scored by lease expiry. The executing node renews its leases
 *       (heartbeats); a lease that expires (the node died or stalled) puts the run back on the queue.</li>
 *   <li>{@code <prefix>deadlines}: open runs scored by their deployment deadline, for the reaper.</li>
 *   <li>{@code <prefix>webhooks:outbox}: the webhook outbox, a stream of run events. A run of a deployment with a
 *       webhook carries the events it subscribed to ({@code notify}); the script that makes a transition appends its
 *       event in the same atomic step, so no run starts or ends without its event recorded.</li>
 * </ul>
 *
 * <p>Every start increments the run's {@code attempt}; completion is fenced on it, so a stale worker that finishes
 * after its run was taken over cannot write a second terminal state ({@code XACK} alone would not stop it: it does
 * not check ownership). Thread-safe.
 */
public final class RunStore {
  static final String GROUP = "workers";

  // Appends a run event to the webhook outbox when the run's deployment subscribed to it ('flags', the run's 'notify').
  // Its message id (the webhook-id) is one per run and event, so a transition replayed after a takeover or a restore
  // is recorded under the same id and delivered once. The caller passes the run's fields it has read already: each
  // redis.call costs about a microsecond of Redis's single thread, so a script reads a hash once, with one HMGET.
  private static final String EMIT = """
      local function emit(flags, deployment, outbox, id, flag, kind, suffix, status, at)
        if not flags or not string.find(flags, flag, 1, true) then return end
        redis.call('XADD', outbox, '*', 'msg', 'msg_' .. id .. '_' .. suffix, 'type', kind, 'run', id,
          'deployment', deployment, 'status', status, 'at', at)
      end
      """;

  // The fields of a new run are ARGV[1..12] (see fields()): profile, deployment, flow_id, flow_version, mode, type,
  // created_at, input, origin node, deadline, run id, the id of the API key that triggered it ('' = none).
  // A run executed in-process from the start (server type), tracked so that any node can poll it and, if this
  // node dies, the expired lease hands it to the queue. KEYS: run, deadlines, leases, outbox. ARGV: a new run's fields,
  // lease expiry, notify.
  private static final LuaScript ACCEPT_LOCAL = new LuaScript(EMIT + """
      redis.call('HSET', KEYS[1], 'status', 'running', 'profile', ARGV[1], 'deployment', ARGV[2], 'flow_id', ARGV[3],
        'flow_version', ARGV[4], 'mode', ARGV[5], 'type', ARGV[6], 'created_at', ARGV[7], 'input', ARGV[8],
        'origin', ARGV[9], 'deadline', ARGV[10], 'attempt', 1, 'started_at', ARGV[7], 'worker', ARGV[9],
        'api_key_id', ARGV[12], 'notify', ARGV[14])
      redis.call('PERSIST', KEYS[1])
      redis.call('ZADD', KEYS[2], ARGV[10], ARGV[11])
      redis.call('ZADD', KEYS[3], ARGV[13], ARGV[11])
      emit(ARGV[14], ARGV[2], KEYS[4], ARGV[11], 's', 'run.started', 'started', 'running', ARGV[7])
      return 1
      """);

  // KEYS: run, stream, leases, deadlines, done channel, outbox. ARGV: started_at, worker, lease expiry, entry id,
  // group, max deliveries, run id, finished result for a dead letter, ttl. The first start records run.started.
  // Returns {'running', attempt, input, deployment, flow_id, flow_version, deadline, created_at, profile, mode, type,
  // started_at (of the first attempt: what the run's record shows), api_key_id} when
  // the run may start, {'dead'} when it has used up its deliveries, or {status} when it must not run.
  private static final LuaScript START = new LuaScript(EMIT + """
      if ARGV[4] ~= '' then
        redis.call('XACK', KEYS[2], ARGV[5], ARGV[4])
        redis.call('XDEL', KEYS[2], ARGV[4])
      end
      local h = redis.call('HMGET', KEYS[1], 'status', 'notify', 'deployment', 'input', 'flow_id', 'flow_version',
        'deadline', 'created_at', 'profile', 'mode', 'type', 'started_at', 'api_key_id')
      local st = h[1]
      if not st then return {'missing'} end
      if st ~= 'queued' and st ~= 'running' then return {st} end
      local attempt = redis.call('HINCRBY', KEYS[1], 'attempt', 1)
      if attempt > tonumber(ARGV[6]) then
        redis.call('HSET', KEYS[1], 'status', 'failed', 'finished_at', ARGV[1], 'result', ARGV[8])
        redis.call('HDEL', KEYS[1], 'input')
        redis.call('EXPIRE', KEYS[1], ARGV[9])
        redis.call('ZREM', KEYS[3], ARGV[7])
        redis.call('ZREM', KEYS[4], ARGV[7])
        redis.call('PUBLISH', KEYS[5], ARGV[7])
        emit(h[2], h[3], KEYS[6], ARGV[7], 'f', 'run.failed', 'ended', 'failed', ARGV[1])
        return {'dead'}
      end
      local started = h[12]
      if started then
        redis.call('HSET', KEYS[1], 'status', 'running', 'worker', ARGV[2])
      else
        started = ARGV[1]
        redis.call('HSET', KEYS[1], 'status', 'running', 'worker', ARGV[2], 'started_at', started)
        emit(h[2], h[3], KEYS[6], ARGV[7], 's', 'run.started', 'started', 'running', ARGV[1])
      end
      redis.call('ZADD', KEYS[3], ARGV[3], ARGV[7])
      return {'running', tostring(attempt), h[4], h[3], h[5], h[6], h[7], h[8], h[9], h[10], h[11], started, h[13]}
      """);

  // The one terminal transition, with its run.completed or run.failed event (a timed-out or cancelled run fails).
  // KEYS: run, leases, deadlines, done channel, cancel channel, outbox. ARGV: status,
  // finished_at, result, ttl, run id, attempt ('' = any: a timeout or a cancel), publish cancel ('1' or '0'),
  // ttl of sync runs, the field ARGV[3] goes to ('result', or 'wire' when it is the run's whole wire form),
  // the done notice ('' = the run id alone; see RunNotices).
  private static final LuaScript FINISH = new LuaScript(EMIT + """
      local h = redis.call('HMGET', KEYS[1], 'status', 'attempt', 'mode', 'notify', 'deployment')
      local st = h[1]
      if not st then return 0 end
      if st ~= 'queued' and st ~= 'running' then return 0 end
      if ARGV[6] ~= '' and h[2] ~= ARGV[6] then return 0 end
      redis.call('HSET', KEYS[1], 'status', ARGV[1], 'finished_at', ARGV[2], ARGV[9], ARGV[3])
      redis.call('HDEL', KEYS[1], 'input')
      if h[3] == 'sync' then
        redis.call('EXPIRE', KEYS[1], ARGV[8])
      else
        redis.call('EXPIRE', KEYS[1], ARGV[4])
      end
      redis.call('ZREM', KEYS[2], ARGV[5])
      redis.call('ZREM', KEYS[3], ARGV[5])
      if ARGV[1] == 'completed' then
        emit(h[4], h[5], KEYS[6], ARGV[5], 'c', 'run.completed', 'ended', ARGV[1], ARGV[2])
      else
        emit(h[4], h[5], KEYS[6], ARGV[5], 'f', 'run.failed', 'ended', ARGV[1], ARGV[2])
      end
      if ARGV[10] ~= '' then redis.call('PUBLISH', KEYS[4], ARGV[10]) else redis.call('PUBLISH', KEYS[4], ARGV[5]) end
      if ARGV[7] == '1' then redis.call('PUBLISH', KEYS[5], ARGV[5]) end
      return 1
      """);

  // Renews the leases of the runs this worker still holds at the attempt it holds. ARGV: worker, expiry, then pairs
  // of run id and attempt. Returns the run ids whose lease is no longer ours (taken over, or ended).
  private static final LuaScript HEARTBEAT = new LuaScript("""
      local lost = {}
      for i = 3, #ARGV, 2 do
        local key = KEYS[2] .. ARGV[i]
        local h = redis.call('HMGET', key, 'status', 'worker', 'attempt')
        if h[1] == 'running' and h[2] == ARGV[1] and h[3] == ARGV[i + 1] then
          redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
        else
          table.insert(lost, ARGV[i])
        end
      end
      return lost
      """);

  // Puts a run whose lease expired back on the queue, if the lease is still expired (another node's reaper may have
  // done it already) and the run has not ended. KEYS: run, leases, stream. ARGV: now, run id.
  private static final LuaScript REQUEUE = new LuaScript("""
      local score = redis.call('ZSCORE', KEYS[2], ARGV[2])
      if not score or tonumber(score) > tonumber(ARGV[1]) then return 0 end
      redis.call('ZREM', KEYS[2], ARGV[2])
      local st = redis.call('HGET', KEYS[1], 'status')
      if st ~= 'queued' and st ~= 'running' then return 0 end
      redis.call('HSET', KEYS[1], 'status', 'queued', 'worker', '')
      redis.call('XADD', KEYS[3], '*', 'run', ARGV[2])
      return 1
      """);

  // Re-creates a run that PostgreSQL recorded as accepted but Redis no longer has. KEYS: run, stream, deadlines.
  // ARGV: a new run's fields, notify.
  private static final LuaScript RESTORE = new LuaScript("""
      if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
      redis.call('HSET', KEYS[1], 'status', 'queued', 'profile', ARGV[1], 'deployment', ARGV[2], 'flow_id', ARGV[3],
        'flow_version', ARGV[4], 'mode', ARGV[5], 'type', ARGV[6], 'created_at', ARGV[7], 'input', ARGV[8],
        'origin', ARGV[9], 'deadline', ARGV[10], 'attempt', 0, 'api_key_id', ARGV[12], 'notify', ARGV[13])
      redis.call('ZADD', KEYS[3], ARGV[10], ARGV[11])
      redis.call('XADD', KEYS[2], '*', 'run', ARGV[11])
      return 1
      """);

  // Every node hears every done notice: a run whose wire form is larger is announced by its id alone, and its waiters
  // read it from its hash.
  static final int NOTICE_MAX_WIRE_BYTES = 8 * 1024;

  private final Redis redis;
  private final String prefix;
  private final String streamKey;
  private final String leasesKey;
  private final String deadlinesKey;
  private final String outboxKey;
  private final String doneChannel;
  private final String cancelChannel;
  private final String ttlSeconds;
  private final String syncTtlSeconds;
  private final Duration commandTimeout;

  public RunStore(Redis redis, String prefix, Duration ttl, Duration syncTtl, Duration commandTimeout) {
    this.redis = redis;
    this.prefix = prefix;
    this.streamKey = prefix + "runs";
    this.leasesKey = prefix + "leases";
    this.deadlinesKey = prefix + "deadlines";
    this.outboxKey = WebhookEvents.outboxKey(prefix);
    this.doneChannel = prefix + "done";
    this.cancelChannel = prefix + "cancel";
    this.ttlSeconds = Long.toString(ttl.toSeconds());
    this.syncTtlSeconds = Long.toString(syncTtl.toSeconds());
    this.commandTimeout = commandTimeout;
  }

  String runKey(String id) {
    return prefix + "run:" + id;
  }

  String streamKey() {
    return streamKey;
  }

  /** The channel on which every node hears that a run has ended (its id is the message). */
  String doneChannel() {
    return doneChannel;
  }

  /** The channel on which every node hears that a run must stop. */
  String cancelChannel() {
    return cancelChannel;
  }

  Redis redis() {
    return redis;
  }

  private Future<Response> run(LuaScript script, List<String> keys, List<?> args) {
    return write(script, keys, args).recover(RunStore::unavailable);
  }

  /** A script call whose failure is left as it is, so that the caller can tell a refused write from a lost reply. */
  private Future<Response> write(LuaScript script, List<String> keys, List<?> args) {
    return script.run(redis, keys, args).timeout(commandTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /**
   * Whether a failed write may nevertheless have been applied: a timeout, or a connection that broke after the
   * command was sent. A refused connection (Redis is down) or an error reply means it was not.
   */
  static boolean maybeApplied(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof java.net.ConnectException || t instanceof io.vertx.redis.client.impl.types.ErrorType) {
        return false;
      }
      String message = t.getMessage();
      if (message != null && (message.contains("Connection refused") || message.startsWith("ERR")
          || message.startsWith("NOSCRIPT"))) {
        return false;
      }
    }
    return true;
  }

  /** A new run's fields, {@code input} as its JSON text. */
  private static List<String> fields(Run run, String input, String originNode, long deadlineEpochMs) {
    return List.of(run.profileId().toString(), run.deploymentId().toString(),
        run.flowId() == null ? "" : run.flowId().toString(),
        run.flowVersion() == null ? "" : run.flowVersion().toString(),
        run.mode(), run.type(), Timestamps.format(run.createdAt()), input, originNode,
        Long.toString(deadlineEpochMs), run.id(), keyId(run));
  }

  /** The run's API key id as stored in its hash: '' for none. */
  private static String keyId(Run run) {
    return run.apiKeyId() == null ? "" : run.apiKeyId().toString();
  }

  private static List<String> with(List<String> fields, String... more) {
    List<String> args = new ArrayList<>(fields.size() + more.length);
    args.addAll(fields);
    args.addAll(List.of(more));
    return args;
  }

  /** {@link #enqueue(Run, JsonObject, String, long, String)} of a run whose deployment sends no webhooks. */
  Future<Void> enqueue(Run run, JsonObject input, String originNode, long deadlineEpochMs) {
    return enqueue(run, input, originNode, deadlineEpochMs, "");
  }

  /**
   * Records the run as queued and puts it on the run queue, atomically. {@code notify} holds the webhook events its
   * deployment subscribed to ({@link WebhookEvents#flags}). Fails with the client's own error (see
   * {@link #maybeApplied}); callers map it.
   */
  Future<Void> enqueue(Run run, JsonObject input, String originNode, long deadlineEpochMs, String notify) {
    return enqueue(run, input.encode(), originNode, deadlineEpochMs, notify);
  }

  /** {@link #enqueue(Run, JsonObject, String, long, String)} with the input as its JSON text. */
  Future<Void> enqueue(Run run, String input, String originNode, long deadlineEpochMs, String notify) {
    // Unconditional writes, so a transaction rather than a script (see LoopTransaction), batched per event-loop turn:
    // the runs one PostgreSQL commit accepted, or one turn's sync triggers, go to Redis in one write.
    String key = runKey(run.id());
    String deadline = Long.toString(deadlineEpochMs);
    return inTransaction(List.of(
        hsetRun(key, "queued", run)
            .arg("input").arg(input)
            .arg("origin").arg(originNode).arg("deadline").arg(deadline).arg("attempt").arg("0")
            .arg("api_key_id").arg(keyId(run)).arg("notify").arg(notify),
        Request.cmd(Command.PERSIST).arg(key),
        Request.cmd(Command.ZADD).arg(deadlinesKey).arg(deadline).arg(run.id()),
        Request.cmd(Command.XADD).arg(streamKey).arg("*").arg("run").arg(run.id())), false);
  }

  /**
   * Records a run that this node starts executing now, with its first lease (and its run.started event when
   * subscribed). Fails as {@link #enqueue} does.
   */
  Future<Void> acceptLocal(Run run, JsonObject input, String nodeId, long deadlineEpochMs, long leaseExpiryMs,
      String notify) {
    return acceptLocal(run, input.encode(), nodeId, deadlineEpochMs, leaseExpiryMs, notify);
  }

  /** {@link #acceptLocal(Run, JsonObject, String, long, long, String)} with the input as its JSON text. */
  Future<Void> acceptLocal(Run run, String input, String nodeId, long deadlineEpochMs, long leaseExpiryMs,
      String notify) {
    return write(ACCEPT_LOCAL, List.of(runKey(run.id()), deadlinesKey, leasesKey, outboxKey),
        with(fields(run, input, nodeId, deadlineEpochMs), Long.toString(leaseExpiryMs), notify)).mapEmpty();
  }

  /** {@link #restore(Run, JsonObject, String, long, String)} of a run whose deployment sends no webhooks. */
  Future<Boolean> restore(Run run, JsonObject input, String originNode, long deadlineEpochMs) {
    return restore(run, input, originNode, deadlineEpochMs, "");
  }

  /** Puts a run PostgreSQL has but Redis lost back on the queue; false when Redis has it after all. */
  Future<Boolean> restore(Run run, JsonObject input, String originNode, long deadlineEpochMs, String notify) {
    return run(RESTORE, List.of(runKey(run.id()), streamKey, deadlinesKey),
        with(fields(run, input.encode(), originNode, deadlineEpochMs), notify))
        .map(r -> r != null && r.toInteger() == 1);
  }

  /** What a worker needs to execute a run it has started; {@code apiKeyId} null or empty when the run has none. */
  record Claimed(int attempt, String input, String deploymentId, String flowId, String flowVersion,
      long deadlineEpochMs, String createdAt, String profileId, String mode, String type, String startedAt,
      String apiKeyId) {}

  /** The outcome of {@link #start}: the run to execute, or why there is none. */
  record Start(Claimed claimed, String refusal) {}

  /**
   * Starts a delivered run: acknowledges its queue entry, counts the attempt and takes the lease. A run that has
   * been started {@code maxDeliveries} times already (it keeps taking its worker down) ends failed instead.
   */
  Future<Start> start(String runId, String entryId, Instant startedAt, String worker, long leaseExpiryMs,
      int maxDeliveries) {
    return starts.call(List.of(runKey(runId), streamKey, leasesKey, deadlinesKey, doneChannel, outboxKey),
        List.of(Timestamps.format(startedAt), worker, Long.toString(leaseExpiryMs), entryId == null ? "" : entryId,
            GROUP, Integer.toString(maxDeliveries), runId, deadLetter(maxDeliveries), ttlSeconds))
        .map(r -> {
          String first = r == null || r.size() == 0 ? "missing" : r.get(0).toString();
          if (!"running".equals(first) || r.size() < 11) {
            return new Start(null, first);
          }
          return new Start(new Claimed(Integer.parseInt(r.get(1).toString()), str(r.get(2)), str(r.get(3)),
              str(r.get(4)), str(r.get(5)), r.get(6) == null ? 0L : Long.parseLong(r.get(6).toString()),
              str(r.get(7)), str(r.get(8)), str(r.get(9)), str(r.get(10)), r.size() > 11 ? str(r.get(11)) : null,
              r.size() > 12 ? str(r.get(12)) : null), null);
        });
  }

  // The result of a run that used up its deliveries, encoded once per limit (a start passes it, and one in a great
  // many uses it).
  private final Map<Integer, String> deadLetters = new java.util.concurrent.ConcurrentHashMap<>();

  private String deadLetter(int maxDeliveries) {
    return deadLetters.computeIfAbsent(maxDeliveries, n -> Run.result(null, new JsonObject(), new JsonObject()
        .put("message", "The run was started " + n + " times and its worker stopped each time; it is not retried"
            + " again.")).encode());
  }

  /**
   * The run's one terminal transition; false when it had ended already or, with an {@code attempt}, when that
   * attempt is no longer the current one (a stale worker). {@code stopExecution} also tells the executing node.
   */
  Future<Boolean> finish(String runId, RunStatus status, Instant finishedAt, JsonObject result, Integer attempt,
      boolean stopExecution) {
    return run(FINISH, List.of(runKey(runId), leasesKey, deadlinesKey, doneChannel, cancelChannel, outboxKey), List.of(
        status.wire(), Timestamps.format(finishedAt), result.encode(), ttlSeconds, runId,
        attempt == null ? "" : attempt.toString(), stopExecution ? "1" : "0", syncTtlSeconds, "result", ""))
        .map(r -> r != null && r.toInteger() == 1);
  }

  /**
   * {@link #finish} by the worker that executed the run (fenced on {@code attempt}), storing the run's wire form
   * {@code wire} (which holds its result). With {@code announceWire}, and up to {@link #NOTICE_MAX_WIRE_BYTES}, the
   * done notice carries it, so that the waiting node answers from the notice without reading the run back; without,
   * the notice names the run alone: for a run that a caller rarely waits on (async), every node would hear its wire
   * form for nothing, and the rare waiter reads it back.
   */
  Future<Boolean> finishWithWire(String runId, RunStatus status, Instant finishedAt, Buffer wire, int attempt,
      boolean announceWire) {
    return finishes.call(List.of(runKey(runId), leasesKey, deadlinesKey, doneChannel, cancelChannel, outboxKey),
        List.of(status.wire(), Timestamps.format(finishedAt), wire, ttlSeconds, runId, Integer.toString(attempt), "0",
        syncTtlSeconds, "wire", announceWire && wire.length() <= NOTICE_MAX_WIRE_BYTES
            ? RunNotices.donePayload(runId, status, wire) : ""))
        .map(r -> r != null && r.toInteger() == 1);
  }

  /**
   * Writes a plain sync {@code server} run that ran in-process and has ended, once, with its wire form (which holds
   * its result). Its key id is not stored: nothing reads it from here (the run never queued; its history row gets it
   * from the run itself). The run's id is new and nobody has seen it before its caller's answer, so no other
   * transition can race this write: it is a plain {@code HSET} and {@code EXPIRE} in a transaction (see
   * {@link LoopTransaction}), not a script that checks first. Fails with 503 service_unavailable.
   */
  Future<Void> save(Run run, Buffer wire) {
    String key = runKey(run.id());
    return inTransaction(List.of(
        hsetRun(key, run.status().wire(), run)
            .arg("started_at").arg(run.startedAt() == null ? "" : Timestamps.format(run.startedAt()))
            .arg("finished_at").arg(run.finishedAt() == null ? "" : Timestamps.format(run.finishedAt()))
            .arg("wire").arg(wire),
        Request.cmd(Command.EXPIRE).arg(key).arg(syncTtlSeconds)), true);
  }

  /** An HSET of a new run's hash with {@code status} and the fields every run has; the caller adds the rest. */
  private static Request hsetRun(String key, String status, Run run) {
    return Request.cmd(Command.HSET).arg(key).arg("status").arg(status)
        .arg("profile").arg(run.profileId().toString())
        .arg("deployment").arg(run.deploymentId().toString())
        .arg("flow_id").arg(run.flowId() == null ? "" : run.flowId().toString())
        .arg("flow_version").arg(run.flowVersion() == null ? "" : run.flowVersion().toString())
        .arg("mode").arg(run.mode()).arg("type").arg(run.type())
        .arg("created_at").arg(Timestamps.format(run.createdAt()));
  }

  /**
   * Runs {@code commands} atomically (in a {@code MULTI}/{@code EXEC} transaction) with the other commands this event
   * loop sends this way in the same turn; off an event loop, at once and alone. Fails with the client's own error (see
   * {@link #maybeApplied}), or with 503 service_unavailable when {@code mapped}.
   */
  private Future<Void> inTransaction(List<Request> commands, boolean mapped) {
    io.vertx.core.internal.ContextInternal context = loopContext();
    Future<Void> done;
    if (context == null) {
      LoopTransaction alone = new LoopTransaction();
      done = alone.add(commands, null);
      alone.send();
    } else {
      done = turnBatch(context, transaction, LoopTransaction::new, LoopTransaction::full, LoopTransaction::send)
          .add(commands, context);
    }
    return mapped ? done.recover(RunStore::unavailable) : done;
  }

  /** The calling event loop's context, or null off the event loops. */
  private static io.vertx.core.internal.ContextInternal loopContext() {
    io.vertx.core.Context context = io.vertx.core.Vertx.currentContext();
    return context == null || !context.isEventLoopContext() ? null : (io.vertx.core.internal.ContextInternal) context;
  }

  /**
   * The batch this event loop's current turn is filling in {@code current}; when there is none, or it is full, a new
   * one, which {@code send} sends at the end of the turn (after the loop has handled the I/O it woke up for).
   */
  private static <B> B turnBatch(io.vertx.core.Context context, ThreadLocal<B> current,
      java.util.function.Supplier<B> create, java.util.function.Predicate<B> full,
      java.util.function.Consumer<B> send) {
    B batch = current.get();
    if (batch == null || full.test(batch)) {
      B fresh = create.get();
      current.set(fresh);
      context.runOnContext(v -> {
        if (current.get() == fresh) {
          current.remove();
        }
        send.accept(fresh);
      });
      batch = fresh;
    }
    return batch;
  }

  // The transaction this event loop's current turn is filling (see LoopTransaction): event-loop threads only.
  private final ThreadLocal<LoopTransaction> transaction = new ThreadLocal<>();

  // At most this many runs in one transaction or batched script call: Redis runs nothing else while it executes
  // (~5-20 µs a run).
  static final int TURN_BATCH_MAX = 64;
  // Transactions sent, for tests of the batching.
  final java.util.concurrent.atomic.AtomicLong transactions = new java.util.concurrent.atomic.AtomicLong();

  /**
   * The unconditional writes of the runs that are accepted or end in one turn of an event loop, sent together: the
   * first writer schedules one pipelined {@code MULTI}, its commands and the later writers', {@code EXEC} for the end
   * of the turn (after the loop has handled the I/O it woke up for), and the others join it. That is no timer and no
   * added wait, one write and one reply for all of them, and no script: a script call cost Redis ~3x the writes it
   * wraps, converting each argument into Lua and back ({@code INFO commandstats}: EVALSHA 33 µs around an HSET of
   * 10), and a script of many runs still ~2.5x. Each writer's commands stay atomic; a writer whose command Redis
   * refuses fails alone.
   */
  private final class LoopTransaction {
    private final List<Request> commands = new ArrayList<>();
    private final List<io.vertx.core.Promise<Void>> promises = new ArrayList<>();
    // Where each writer's commands end in the EXEC reply (exclusive).
    private final List<Integer> ends = new ArrayList<>();

    LoopTransaction() {
      commands.add(Request.cmd(Command.MULTI));
    }

    boolean full() {
      return promises.size() >= TURN_BATCH_MAX;
    }

    /** Adds a writer's commands; it hears on {@code context} (its own; null: whichever thread answers). */
    Future<Void> add(List<Request> writes, io.vertx.core.internal.ContextInternal context) {
      commands.addAll(writes);
      ends.add(commands.size() - 1);
      io.vertx.core.Promise<Void> promise = context == null ? io.vertx.core.Promise.promise() : context.promise();
      promises.add(promise);
      return promise.future();
    }

    void send() {
      transactions.incrementAndGet();
      commands.add(Request.cmd(Command.EXEC));
      redis.batch(commands)
          .timeout(commandTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
          .onComplete(ar -> {
            Response exec = ar.succeeded() && !ar.result().isEmpty() ? ar.result().get(ar.result().size() - 1) : null;
            int queued = commands.size() - 2;
            int from = 0;
            for (int i = 0; i < promises.size(); i++) {
              int to = ends.get(i);
              if (ar.failed()) {
                promises.get(i).fail(ar.cause());
              } else if (exec == null || exec.size() != queued) {
                // EXECABORT, or no reply: nothing was applied.
                promises.get(i).fail(new IllegalStateException("ERR the transaction of " + promises.size()
                    + " run writes was not executed"));
              } else {
                Response refused = null;
                for (int c = from; c < to; c++) {
                  Response r = exec.get(c);
                  if (r != null && r.type() == io.vertx.redis.client.ResponseType.ERROR) {
                    refused = r;
                  }
                }
                if (refused == null) {
                  promises.get(i).complete();
                } else {
                  promises.get(i).fail(new IllegalStateException("ERR a run write was refused: " + refused));
                }
              }
              from = to;
            }
          });
    }
  }

  // The workers' starts and finishes, batched per event-loop turn (ScriptBatcher): the runs of one queue read start
  // in one script call, and the runs that end in one turn finish in one.
  private final ScriptBatcher starts = new ScriptBatcher(START.batched(6, 9));
  private final ScriptBatcher finishes = new ScriptBatcher(FINISH.batched(6, 10));
  // Batched script calls sent, for tests of the batching.
  final java.util.concurrent.atomic.AtomicLong scriptCalls = new java.util.concurrent.atomic.AtomicLong();

  /**
   * Calls of one script made in one turn of an event loop, sent as one call of its {@link LuaScript#batched} form at
   * the end of the turn (as {@link LoopTransaction}); each caller gets its own call's reply. Every run's transition
   * stays what it was alone, checks included; Redis pays the script call's own cost once for all of them, where it
   * was 2-3x the commands of START or FINISH run alone ({@code INFO commandstats}). Off an event loop, a call goes
   * alone. Failures are the client's own for every call of the batch, mapped to 503 as {@link #run} does.
   */
  private final class ScriptBatcher {
    private final LuaScript script;
    private final ThreadLocal<Batch> current = new ThreadLocal<>();

    ScriptBatcher(LuaScript script) {
      this.script = script;
    }

    Future<Response> call(List<String> keys, List<?> args) {
      io.vertx.core.internal.ContextInternal context = loopContext();
      Future<Response> reply;
      if (context == null) {
        Batch alone = new Batch();
        reply = alone.add(keys, args, null);
        alone.send();
      } else {
        reply = turnBatch(context, current, Batch::new, b -> b.promises.size() >= TURN_BATCH_MAX, Batch::send)
            .add(keys, args, context);
      }
      return reply.recover(RunStore::unavailable);
    }

    private final class Batch {
      private final List<String> keys = new ArrayList<>();
      private final List<Object> args = new ArrayList<>();
      private final List<io.vertx.core.Promise<Response>> promises = new ArrayList<>();

      Future<Response> add(List<String> callKeys, List<?> callArgs, io.vertx.core.internal.ContextInternal context) {
        keys.addAll(callKeys);
        args.addAll(callArgs);
        io.vertx.core.Promise<Response> promise = context == null ? io.vertx.core.Promise.promise()
            : context.promise();
        promises.add(promise);
        return promise.future();
      }

      void send() {
        scriptCalls.incrementAndGet();
        write(script, keys, args).onComplete(ar -> {
          for (int i = 0; i < promises.size(); i++) {
            if (ar.failed()) {
              promises.get(i).fail(ar.cause());
            } else if (ar.result() == null || ar.result().size() != promises.size()) {
              promises.get(i).fail(new IllegalStateException("the batched script answered "
                  + (ar.result() == null ? "nothing" : ar.result().size() + " replies") + " for "
                  + promises.size() + " calls"));
            } else {
              promises.get(i).complete(ar.result().get(i));
            }
          }
        });
      }
    }
  }

  /** Renews leases of the runs this worker holds; completes with the ids whose lease is no longer ours. */
  Future<List<String>> heartbeat(String worker, long leaseExpiryMs, Map<String, Integer> held) {
    if (held.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    List<String> args = new ArrayList<>(2 + held.size() * 2);
    args.add(worker);
    args.add(Long.toString(leaseExpiryMs));
    held.forEach((id, attempt) -> {
      args.add(id);
      args.add(attempt.toString());
    });
    return run(HEARTBEAT, List.of(leasesKey, prefix + "run:"), args).map(r -> {
      List<String> lost = new ArrayList<>();
      if (r != null) {
        for (Response id : r) {
          lost.add(id.toString());
        }
      }
      return lost;
    });
  }

  /** Run ids whose lease expired before {@code nowMs} (at most {@code limit}). */
  Future<List<String>> expiredLeases(long nowMs, int limit) {
    return range(leasesKey, nowMs, limit);
  }

  /** Run ids past their deadline at {@code nowMs} (at most {@code limit}). */
  Future<List<String>> pastDeadline(long nowMs, int limit) {
    return range(deadlinesKey, nowMs, limit);
  }

  private Future<List<String>> range(String key, long max, int limit) {
    return redis.send(Request.cmd(Command.ZRANGEBYSCORE).arg(key).arg("-inf").arg(max).arg("LIMIT").arg(0)
            .arg(limit))
        .timeout(commandTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .map(r -> {
          List<String> ids = new ArrayList<>();
          if (r != null) {
            for (Response id : r) {
              ids.add(id.toString());
            }
          }
          return ids;
        })
        .recover(RunStore::unavailable);
  }

  /** Puts a run with an expired lease back on the queue; false when another node did, or it ended. */
  Future<Boolean> requeue(String runId, long nowMs) {
    return run(REQUEUE, List.of(runKey(runId), leasesKey, streamKey), List.of(Long.toString(nowMs), runId))
        .map(r -> r != null && r.toInteger() == 1);
  }

  /** The run with this id, or null when Redis has none (unknown or past retention). */
  public Future<Run> load(String runId) {
    return redis.send(Request.cmd(Command.HGETALL).arg(runKey(runId)))
        .timeout(commandTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .map(r -> Run.fromHash(runId, toMap(r)))
        .recover(RunStore::unavailable);
  }

  /**
   * The run with this id as an answer needs it, or null when Redis has none: an ended run with a stored wire form is
   * answered from those bytes without decoding them.
   */
  Future<RunView> loadView(String runId) {
    return redis.send(Request.cmd(Command.HGETALL).arg(runKey(runId)))
        .timeout(commandTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .map(r -> {
          if (r == null || r.size() == 0) {
            return null;
          }
          String status = null;
          String profile = null;
          String deployment = null;
          Buffer wire = null;
          for (int i = 0; i + 1 < r.size(); i += 2) {
            String field = r.get(i).toString();
            Response value = r.get(i + 1);
            switch (field) {
              case "status" -> status = str(value);
              case "profile" -> profile = str(value);
              case "deployment" -> deployment = str(value);
              case "wire" -> wire = value == null ? null : value.toBuffer();
              default -> {
              }
            }
          }
          RunStatus s = RunStatus.fromWire(status);
          if (wire != null && s != null && s.terminal() && profile != null && deployment != null) {
            return RunView.ofWire(runId, java.util.UUID.fromString(profile), java.util.UUID.fromString(deployment), s,
                wire);
          }
          return RunView.of(Run.fromHash(runId, toMap(r)));
        })
        .recover(RunStore::unavailable);
  }

  /** The status of a run, or null when Redis has none. */
  Future<String> status(String runId) {
    return redis.send(Request.cmd(Command.HGET).arg(runKey(runId)).arg("status"))
        .timeout(commandTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .map(r -> r == null ? null : r.toString())
        .recover(RunStore::unavailable);
  }

  /** A RESP2 HGETALL reply (a flat array of field, value) as a map. */
  static Map<String, String> toMap(Response r) {
    Map<String, String> map = new HashMap<>();
    if (r == null) {
      return map;
    }
    for (int i = 0; i + 1 < r.size(); i += 2) {
      map.put(r.get(i).toString(), str(r.get(i + 1)));
    }
    return map;
  }

  private static String str(Response r) {
    return r == null ? null : r.toString();
  }

  static <T> Future<T> unavailable(Throwable e) {
    if (e instanceof GatewayException) {
      return Future.failedFuture(e);
    }
    return Future.failedFuture(GatewayException.retryAfter(ErrorCode.SERVICE_UNAVAILABLE,
        "flowgate cannot reach its run store (Redis) right now; retry in a few seconds.", 2));
  }
}
