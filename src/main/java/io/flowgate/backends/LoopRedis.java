package io.flowgate.backends;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link Redis} client whose commands from an event loop go over one pipelined connection owned by that event loop,
 * taken from {@code pool} once and kept: no pool checkout and return per command, and no hand-off of a command or
 * its reply to another event loop (a pooled connection belongs to the loop that opened it). A connection that breaks
 * is dropped and the next command on that loop opens a new one; a command in flight on it fails as it would on a
 * pooled one. Callers off the event loops, and {@link #connect()} (for blocking commands and subscriptions, which
 * must not hold up a shared pipeline), use {@code pool}. Thread-safe.
 */
public final class LoopRedis implements Redis {
  private final Redis pool;
  private final ConcurrentHashMap<Thread, Future<RedisConnection>> held = new ConcurrentHashMap<>();
  private volatile boolean closed;

  public LoopRedis(Redis pool) {
    this.pool = pool;
  }

  @Override
  public Future<RedisConnection> connect() {
    return pool.connect();
  }

  @Override
  public Future<Response> send(Request command) {
    Future<RedisConnection> connection = loopConnection();
    if (connection == null) {
      return pool.send(command);
    }
    return connection.compose(c -> c.send(command));
  }

  @Override
  public Future<List<Response>> batch(List<Request> commands) {
    Future<RedisConnection> connection = loopConnection();
    if (connection == null) {
      return pool.batch(commands);
    }
    return connection.compose(c -> c.batch(commands));
  }

  /** This event loop's connection (opened on first use), or null for a caller that is not on an event loop. */
  private Future<RedisConnection> loopConnection() {
    Context context = Vertx.currentContext();
    if (closed || context == null || !context.isEventLoopContext()) {
      return null;
    }
    Thread loop = Thread.currentThread();
    Future<RedisConnection> connection = held.get(loop);
    if (connection != null && !connection.failed()) {
      return connection;
    }
    Future<RedisConnection> opening = pool.connect();
    if (connection == null ? held.putIfAbsent(loop, opening) != null : !held.replace(loop, connection, opening)) {
      // Another caller on this thread cannot race us (one thread per loop); this only guards a concurrent close.
      return held.getOrDefault(loop, opening);
    }
    opening.onComplete(ar -> {
      if (ar.failed()) {
        // Redis is down or refusing: the next command tries again rather than keep the failure.
        held.remove(loop, opening);
        return;
      }
      RedisConnection c = ar.result();
      c.exceptionHandler(e -> forget(loop, opening, c));
      c.endHandler(v -> forget(loop, opening, c));
      if (closed) {
        forget(loop, opening, c);
      }
    });
    return opening;
  }

  private void forget(Thread loop, Future<RedisConnection> opening, RedisConnection connection) {
    if (held.remove(loop, opening)) {
      connection.close();
    }
  }

  @Override
  public Future<Void> close() {
    closed = true;
    List<Future<?>> closing = new ArrayList<>();
    for (Future<RedisConnection> f : held.values()) {
      if (f.succeeded()) {
        closing.add(f.result().close().recover(e -> Future.succeededFuture()));
      }
    }
    held.clear();
    return Future.join(closing).transform(ar -> pool.close());
  }
}
