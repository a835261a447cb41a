package io.flowgate.runs;

import io.flowgate.flow.RunControl;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's ear on Redis pub/sub: "run ended" notices wake whoever waits for a run here (a sync caller, a
 * long-poll, an idempotent retry), whichever node ran it; "stop this run" notices reach the run if it executes here.
 * One dedicated subscriber connection, re-opened with backoff when it drops; after a reconnect every waiter re-reads
 * its run, so a notice lost in the gap costs a read, never a hung request. Thread-safe; waiters are woken on their
 * own context.
 */
final class RunNotices {
  private static final Logger LOG = LoggerFactory.getLogger(RunNotices.class);

  private final Vertx vertx;
  private final Supplier<Redis> subscriberClient;
  private final RunStore store;
  private final Map<String, List<Waiter>> waiters = new ConcurrentHashMap<>();
  private final Map<String, RunControl> executing = new ConcurrentHashMap<>();
  private volatile Redis client;
  private volatile boolean closed;
  private int failures;

  RunNotices(Vertx vertx, Supplier<Redis> subscriberClient, RunStore store) {
    this.vertx = vertx;
    this.subscriberClient = subscriberClient;
    this.store = store;
  }

  Future<Void> start() {
    client = subscriberClient.get();
    return client.connect().compose(conn -> {
      failures = 0;
      conn.handler(this::onMessage);
      conn.exceptionHandler(e -> LOG.warn("run notice connection failed: {}", e.getMessage()));
      conn.endHandler(v -> reconnectLater());
      return conn.send(Request.cmd(Command.SUBSCRIBE).arg(store.doneChannel()).arg(store.cancelChannel()));
    }).mapEmpty();
  }

  private void reconnectLater() {
    if (closed) {
      return;
    }
    Redis old = client;
    if (old != null) {
      old.close();
    }
    long delay = Math.min(5_000, 100L << Math.min(failures++, 6));
    vertx.setTimer(delay, t -> {
      if (closed) {
        return;
      }
      start().onSuccess(v -> {
        LOG.info("run notice connection restored");
        recheckWaiters();
      }).onFailure(e -> reconnectLater());
    });
  }

  /** Notices may have been missed while disconnected: look at every awaited run once. */
  private void recheckWaiters() {
    for (String runId : waiters.keySet()) {
      store.status(runId).onSuccess(status -> {
        RunStatus s = RunStatus.fromWire(status);
        if (s != null && s.terminal()) {
          wake(runId);
        }
      });
    }
  }

  private void onMessage(Response msg) {
    // RESP2 push: ["message", channel, payload]
    if (msg == null || msg.size() < 3 || !"message".equals(msg.get(0).toString())) {
      return;
    }
    String channel = msg.get(1).toString();
    if (channel.equals(store.doneChannel())) {
      Buffer payload = msg.get(2).toBuffer();
      int space = indexOf(payload, 0);
      String runId = space < 0 ? payload.toString() : payload.getString(0, space);
      wake(runId, space < 0 ? null : payload, space);
      // A run that ended elsewhere (cancelled, timed out, taken over) must not go on here.
      RunControl control = executing.get(runId);
      if (control != null) {
        control.cancel("ended elsewhere");
      }
    } else if (channel.equals(store.cancelChannel())) {
      RunControl control = executing.get(msg.get(2).toString());
      if (control != null) {
        control.cancel("stopped");
      }
    }
  }

  private void wake(String runId) {
    wake(runId, null, -1);
  }

  /** Wakes the run's waiters, with what the notice {@code payload} carries when it is the long form. */
  private void wake(String runId, Buffer payload, int firstSpace) {
    List<Waiter> list = waiters.remove(runId);
    if (list == null) {
      return;
    }
    Ended ended = null;
    if (payload != null) {
      int second = indexOf(payload, firstSpace + 1);
      RunStatus status = second < 0 ? null : RunStatus.fromWire(payload.getString(firstSpace + 1, second));
      if (status != null && status.terminal()) {
        ended = new Ended(status, payload.getBuffer(second + 1, payload.length()));
      }
    }
    for (Waiter w : list) {
      // Completed on the waiter's own context (its promise is bound to it), whichever thread heard the notice.
      w.promise.tryComplete(ended);
    }
  }

  private static int indexOf(Buffer b, int from) {
    for (int i = from; i < b.length(); i++) {
      if (b.getByte(i) == ' ') {
        return i;
      }
    }
    return -1;
  }

  /**
   * The done notice of a run: {@code <run id>}, or {@code <run id> <status> <wire form>} when the node that ended it
   * had its wire form at hand, the run is a sync one (its caller waits; an async run's rare long poll reads it back)
   * and it is small ({@link RunStore#NOTICE_MAX_WIRE_BYTES}: every node hears every notice); every node reads the run
   * id up to the first space.
   */
  static Buffer donePayload(String runId, RunStatus status, Buffer wire) {
    String head = runId + ' ' + status.wire() + ' ';
    return Buffer.buffer(head.length() + wire.length()).appendString(head).appendBuffer(wire);
  }

  /** What a long done notice carried: the run's terminal status and wire form. */
  record Ended(RunStatus status, Buffer wire) {}

  /** A waiting caller: its promise is bound to the context its request runs on, where it completes. */
  private record Waiter(Promise<Ended> promise) {}

  /**
   * A future completed when the run ends, with what the notice carried (null when it named the run only, or when
   * the waiter was woken after a reconnect). Register before reading the run's status, then read it.
   */
  Future<Ended> awaitDone(String runId) {
    // Bound to the caller's context, so that the future's timeout (RunService#waitFor) is a timer of the caller's
    // event loop. A promise of no context times out on Netty's global executor: a cross-thread hand-off (futex wake)
    // to schedule the timer and another to cancel it, per sync api trigger (9% of the gateway's CPU in a profile).
    Promise<Ended> promise = ((ContextInternal) vertx.getOrCreateContext()).promise();
    waiters.computeIfAbsent(runId, k -> new CopyOnWriteArrayList<>()).add(new Waiter(promise));
    return promise.future();
  }

  /** Drops the waiters of a run nobody waits for any more (timed out). */
  void forget(String runId, Future<Ended> waiter) {
    waiters.computeIfPresent(runId, (k, list) -> {
      list.removeIf(w -> w.promise.future() == waiter);
      return list.isEmpty() ? null : list;
    });
  }

  void executing(String runId, RunControl control) {
    executing.put(runId, control);
  }

  void finished(String runId) {
    executing.remove(runId);
  }

  Future<Void> close() {
    closed = true;
    Redis c = client;
    return c == null ? Future.succeededFuture() : c.close();
  }
}
