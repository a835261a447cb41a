package io.flowgate.backends;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.PooledRedisConnection;
import io.vertx.redis.client.impl.RedisStandaloneConnection;
import io.vertx.redis.client.impl.types.ErrorType;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Redis} client whose commands from an event loop go over one pipelined connection owned by that event loop,
 * taken from {@code pool} once and kept: no pool checkout and return per command, and no hand-off of a command or
 * its reply to another event loop (a pooled connection belongs to the loop that opened it). A connection that breaks
 * is dropped and the next command on that loop opens a new one; a command in flight on it fails as it would on a
 * pooled one. Callers off the event loops, and {@link #connect()} (for blocking commands and subscriptions, which
 * must not hold up a shared pipeline), use {@code pool}.
 *
 * <p>The commands an event loop sends in one go (a batch of accepted runs after one PostgreSQL commit, the runs of one
 * queue read) leave in one write: the client flushes every command by itself (a {@code send} system call each, 16% of
 * the gateway's CPU under the async load), so a Netty {@link FlushConsolidationHandler} in front of the connection
 * holds the flushes of one event-loop task and flushes once after it. Thread-safe.
 */
public final class LoopRedis implements Redis {
  private static final Logger LOG = LoggerFactory.getLogger(LoopRedis.class);
  // Flushed at the latest after this many consolidated flushes, so that a long task cannot hold many commands back.
  private static final int MAX_HELD_FLUSHES = 64;
  private static final Field NET_SOCKET = netSocketField();

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
    Thread loop = loopThread();
    if (loop == null) {
      return pool.send(command);
    }
    Future<RedisConnection> connection = loopConnection(loop);
    return connection.compose(c -> c.send(command).onFailure(e -> broken(loop, connection, c, e)));
  }

  @Override
  public Future<List<Response>> batch(List<Request> commands) {
    Thread loop = loopThread();
    if (loop == null) {
      return pool.batch(commands);
    }
    Future<RedisConnection> connection = loopConnection(loop);
    return connection.compose(c -> c.batch(commands).onFailure(e -> broken(loop, connection, c, e)));
  }

  /** The calling event loop's thread, or null for a caller that is not on an event loop. */
  private Thread loopThread() {
    Context context = Vertx.currentContext();
    return closed || context == null || !context.isEventLoopContext() ? null : Thread.currentThread();
  }

  /**
   * A command failed with something other than an error reply from Redis (a closed or broken connection): the
   * connection is not used again. Its end is not always reported promptly (a connection killed by the server was
   * found still in use 16 s later), so a failed command is the signal that counts.
   */
  private void broken(Thread loop, Future<RedisConnection> opening, RedisConnection connection, Throwable e) {
    if (!(e instanceof ErrorType)) {
      forget(loop, opening, connection);
    }
  }

  /** {@code loop}'s connection, opened on first use and after the last one broke. */
  private Future<RedisConnection> loopConnection(Thread loop) {
    Future<RedisConnection> connection = held.get(loop);
    if (connection != null && !connection.failed()) {
      return connection;
    }
    Future<RedisConnection> opening = pool.connect();
    if (connection == null ? held.putIfAbsent(loop, opening) != null : !held.replace(loop, connection, opening)) {
      // Only one thread per loop calls this; a concurrent close() is what changed the map.
      return opening;
    }
    opening.onComplete(ar -> {
      if (ar.failed()) {
        // Redis is down or refusing: the next command tries again rather than keep the failure.
        held.remove(loop, opening);
        return;
      }
      RedisConnection c = ar.result();
      consolidateFlushes(c);
      c.exceptionHandler(e -> forget(loop, opening, c));
      c.endHandler(v -> forget(loop, opening, c));
      if (closed) {
        forget(loop, opening, c);
      }
    });
    return opening;
  }

  private static Field netSocketField() {
    try {
      Field f = RedisStandaloneConnection.class.getDeclaredField("netSocket");
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.debug("Redis flush consolidation unavailable: {}", e.toString());
      return null;
    }
  }

  /**
   * Puts a {@link FlushConsolidationHandler} right before the client's handler on the connection's channel. Without
   * it (a client version whose internals differ) the commands are sent as they were, one write each.
   */
  static boolean consolidateFlushes(RedisConnection connection) {
    Object actual = connection instanceof PooledRedisConnection p ? p.actual() : connection;
    if (NET_SOCKET == null || !(actual instanceof RedisStandaloneConnection)) {
      return false;
    }
    try {
      if (!(NET_SOCKET.get(actual) instanceof NetSocketInternal socket)) {
        return false;
      }
      ChannelHandlerContext handler = socket.channelHandlerContext();
      if (handler.pipeline().get(FlushConsolidationHandler.class) == null) {
        handler.pipeline().addBefore(handler.name(), "flowgate-flush-consolidation",
            new FlushConsolidationHandler(MAX_HELD_FLUSHES, true));
      }
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.debug("Redis flush consolidation not installed: {}", e.toString());
      return false;
    }
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
