package io.flowgate.runs;

import io.flowgate.flow.RunControl;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's ear on Redis pub/sub: completion notices for the runs it accepted (a sync caller waits on them,
 * whichever node ran the run) and cancel notices for the runs it executes. One dedicated subscriber connection,
 * re-opened with backoff when it drops; after a reconnect every waiter re-reads its run, so a notice lost in the gap
 * costs a read, never a hung request. Thread-safe; promises complete on the waiter's own context.
 */
final class RunNotices {
  private static final Logger LOG = LoggerFactory.getLogger(RunNotices.class);

  private final Vertx vertx;
  private final Supplier<Redis> subscriberClient;
  private final RunStore store;
  private final String doneChannel;
  private final String cancelChannel;
  private final Map<String, Waiter> waiters = new ConcurrentHashMap<>();
  private final Map<String, RunControl> executing = new ConcurrentHashMap<>();
  private volatile RedisConnection connection;
  private volatile Redis client;
  private volatile boolean closed;
  private int failures;

  RunNotices(Vertx vertx, Supplier<Redis> subscriberClient, RunStore store, String nodeId) {
    this.vertx = vertx;
    this.subscriberClient = subscriberClient;
    this.store = store;
    this.doneChannel = store.doneChannel(nodeId);
    this.cancelChannel = store.cancelChannel();
  }

  Future<Void> start() {
    client = subscriberClient.get();
    return client.connect().compose(conn -> {
      connection = conn;
      failures = 0;
      conn.handler(this::onMessage);
      conn.exceptionHandler(e -> LOG.warn("run notice connection failed: {}", e.getMessage()));
      conn.endHandler(v -> reconnectLater());
      return conn.send(Request.cmd(Command.SUBSCRIBE).arg(doneChannel).arg(cancelChannel));
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
    vertx.setTimer(delay, t -> start()
        .onSuccess(v -> {
          LOG.info("run notice connection restored");
          recheckWaiters();
        })
        .onFailure(e -> reconnectLater()));
  }

  /** Notices may have been missed while disconnected: look at every awaited run once. */
  private void recheckWaiters() {
    for (String runId : waiters.keySet()) {
      store.load(runId).onSuccess(run -> {
        if (run != null && run.status().terminal()) {
          complete(runId);
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
    String runId = msg.get(2).toString();
    if (channel.equals(doneChannel)) {
      complete(runId);
    } else if (channel.equals(cancelChannel)) {
      RunControl control = executing.get(runId);
      if (control != null) {
        control.cancel("timed_out");
      }
    }
  }

  private void complete(String runId) {
    Waiter w = waiters.remove(runId);
    if (w != null) {
      w.context.runOnContext(v -> w.promise.tryComplete());
    }
  }

  /** A waiting caller and the context its request runs on, where its promise must complete. */
  private record Waiter(Context context, Promise<Void> promise) {}

  /** A future completed when the run ends. Register before the run can possibly end. */
  Future<Void> awaitDone(String runId) {
    Promise<Void> promise = Promise.promise();
    waiters.put(runId, new Waiter(vertx.getOrCreateContext(), promise));
    return promise.future();
  }

  void forget(String runId) {
    waiters.remove(runId);
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
