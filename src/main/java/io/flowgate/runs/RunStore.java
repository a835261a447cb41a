package io.flowgate.runs;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Run state in Redis: one hash per run ({@code <prefix>run:<id>}, expiring after the retention TTL) and the run queue
 * (the stream {@code <prefix>runs}, consumer group {@code workers}). Every status change is one Lua script, so a run
 * has exactly one terminal transition however many workers race for it. Thread-safe.
 */
public final class RunStore {
  static final String GROUP = "workers";

  private static final LuaScript ENQUEUE = new LuaScript("""
      redis.call('HSET', KEYS[1], 'status', 'queued', 'profile', ARGV[1], 'deployment', ARGV[2], 'flow_id', ARGV[3],
        'flow_version', ARGV[4], 'mode', ARGV[5], 'type', ARGV[6], 'created_at', ARGV[7], 'input', ARGV[8],
        'origin', ARGV[9], 'deadline', ARGV[10])
      redis.call('EXPIRE', KEYS[1], ARGV[11])
      return redis.call('XADD', KEYS[2], '*', 'run', ARGV[12])
      """);

  // Returns {status, input, deployment, flow_id, flow_version, deadline, created_at, profile, mode} when the run may start.
  private static final LuaScript START = new LuaScript("""
      local st = redis.call('HGET', KEYS[1], 'status')
      if not st then return {'missing'} end
      if st ~= 'queued' and st ~= 'running' then return {st} end
      redis.call('HSET', KEYS[1], 'status', 'running', 'started_at', ARGV[1], 'worker', ARGV[2])
      return {'running', redis.call('HGET', KEYS[1], 'input'), redis.call('HGET', KEYS[1], 'deployment'),
        redis.call('HGET', KEYS[1], 'flow_id'), redis.call('HGET', KEYS[1], 'flow_version'),
        redis.call('HGET', KEYS[1], 'deadline'), redis.call('HGET', KEYS[1], 'created_at'),
        redis.call('HGET', KEYS[1], 'profile'), redis.call('HGET', KEYS[1], 'mode')}
      """);

  // The one terminal transition: refuses a second one, acknowledges the queue entry either way, and tells the node
  // that accepted the run (it may be waiting for it).
  private static final LuaScript FINISH = new LuaScript("""
      local st = redis.call('HGET', KEYS[1], 'status')
      if ARGV[5] ~= '' then
        redis.call('XACK', KEYS[2], ARGV[4], ARGV[5])
        redis.call('XDEL', KEYS[2], ARGV[5])
      end
      if not st then return 0 end
      if st ~= 'queued' and st ~= 'running' then return 0 end
      redis.call('HSET', KEYS[1], 'status', ARGV[1], 'finished_at', ARGV[2], 'result', ARGV[3])
      redis.call('HDEL', KEYS[1], 'input')
      redis.call('EXPIRE', KEYS[1], ARGV[6])
      local origin = redis.call('HGET', KEYS[1], 'origin')
      if origin then redis.call('PUBLISH', ARGV[7] .. origin, ARGV[8]) end
      return 1
      """);

  // A run executed in-process (server type) is written once, when it ends.
  private static final LuaScript SAVE = new LuaScript("""
      if redis.call('EXISTS', KEYS[1]) == 1 then
        local st = redis.call('HGET', KEYS[1], 'status')
        if st ~= 'queued' and st ~= 'running' then return 0 end
      end
      redis.call('HSET', KEYS[1], 'status', ARGV[1], 'profile', ARGV[2], 'deployment', ARGV[3], 'flow_id', ARGV[4],
        'flow_version', ARGV[5], 'mode', ARGV[6], 'type', ARGV[7], 'created_at', ARGV[8], 'started_at', ARGV[9],
        'finished_at', ARGV[10], 'result', ARGV[11])
      redis.call('EXPIRE', KEYS[1], ARGV[12])
      return 1
      """);

  private final Redis redis;
  private final String prefix;
  private final String streamKey;
  private final String ttlSeconds;

  public RunStore(Redis redis, String prefix, Duration ttl) {
    this.redis = redis;
    this.prefix = prefix;
    this.streamKey = prefix + "runs";
    this.ttlSeconds = Long.toString(ttl.toSeconds());
  }

  String runKey(String id) {
    return prefix + "run:" + id;
  }

  String streamKey() {
    return streamKey;
  }

  /** The channel on which node {@code nodeId} hears that runs it accepted have ended. */
  String doneChannel(String nodeId) {
    return prefix + "done:" + nodeId;
  }

  /** The channel on which every node hears that a run must stop. */
  String cancelChannel() {
    return prefix + "cancel";
  }

  Redis redis() {
    return redis;
  }

  /** Records the run as queued and puts it on the run queue, atomically. */
  Future<Void> enqueue(Run run, JsonObject input, String originNode, long deadlineEpochMs) {
    return ENQUEUE.run(redis, List.of(runKey(run.id()), streamKey), List.of(
        run.profileId().toString(), run.deploymentId().toString(),
        run.flowId() == null ? "" : run.flowId().toString(),
        run.flowVersion() == null ? "" : run.flowVersion().toString(),
        run.mode(), run.type(), run.createdAt().toString(), input.encode(), originNode,
        Long.toString(deadlineEpochMs), ttlSeconds, run.id()))
        .<Void>mapEmpty()
        .recover(RunStore::unavailable);
  }

  /** What a worker needs to execute a queued run. */
  record Claimed(String input, String deploymentId, String flowId, String flowVersion, long deadlineEpochMs,
      String createdAt, String profileId, String mode) {}

  /** Marks the run running; null when it must not run (already terminal, or expired). */
  Future<Claimed> start(String runId, Instant startedAt, String worker) {
    return START.run(redis, List.of(runKey(runId)), List.of(startedAt.toString(), worker)).map(r -> {
      if (r == null || r.size() < 9 || !"running".equals(r.get(0).toString())) {
        return null;
      }
      return new Claimed(str(r.get(1)), str(r.get(2)), str(r.get(3)), str(r.get(4)),
          r.get(5) == null ? 0L : Long.parseLong(r.get(5).toString()), str(r.get(6)), str(r.get(7)),
          str(r.get(8)));
    });
  }

  /**
   * The run's one terminal transition. Returns false when another worker (or a timeout) got there first; the queue
   * entry {@code entryId} (may be empty) is acknowledged either way.
   */
  Future<Boolean> finish(String runId, RunStatus status, Instant finishedAt, JsonObject result, String entryId) {
    return FINISH.run(redis, List.of(runKey(runId), streamKey), List.of(
        status.wire(), finishedAt.toString(), result.encode(), GROUP, entryId == null ? "" : entryId, ttlSeconds,
        prefix + "done:", runId))
        .map(r -> r != null && r.toInteger() == 1)
        .recover(RunStore::unavailable);
  }

  /** Writes a run that ran in-process and has ended; false when a terminal state was already there. */
  Future<Boolean> save(Run run) {
    return SAVE.run(redis, List.of(runKey(run.id())), List.of(
        run.status().wire(), run.profileId().toString(), run.deploymentId().toString(),
        run.flowId() == null ? "" : run.flowId().toString(),
        run.flowVersion() == null ? "" : run.flowVersion().toString(),
        run.mode(), run.type(), run.createdAt().toString(),
        run.startedAt() == null ? "" : run.startedAt().toString(),
        run.finishedAt() == null ? "" : run.finishedAt().toString(),
        Run.result(run.outputData(), run.nodeOutputs(), run.error()).encode(), ttlSeconds))
        .map(r -> r != null && r.toInteger() == 1)
        .recover(RunStore::unavailable);
  }

  /** The run with this id, or null when Redis has none (unknown or past retention). */
  public Future<Run> load(String runId) {
    return redis.send(Request.cmd(Command.HGETALL).arg(runKey(runId)))
        .map(r -> Run.fromHash(runId, toMap(r)))
        .recover(RunStore::unavailable);
  }

  /** Tells every node to stop the run if it executes it. */
  Future<Void> publishCancel(String runId) {
    return redis.send(Request.cmd(Command.PUBLISH).arg(cancelChannel()).arg(runId)).mapEmpty();
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
