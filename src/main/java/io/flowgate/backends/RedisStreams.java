package io.flowgate.backends;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

/** Redis stream plumbing shared by the stream consumers (the run queue's workers, the webhook outbox relay). */
public final class RedisStreams {
  private RedisStreams() {
  }

  /**
   * Creates consumer group {@code group} on {@code stream} (and the stream, if it does not exist) reading from the
   * start; succeeds when the group already exists (BUSYGROUP). Called at start and again after a NOGROUP (the stream
   * was lost, for example by a Redis restart without its data).
   */
  public static Future<Void> ensureGroup(Redis redis, String stream, String group) {
    return redis.send(Request.cmd(Command.XGROUP).arg("CREATE").arg(stream).arg(group).arg("0").arg("MKSTREAM"))
        .<Void>mapEmpty()
        .recover(e -> e.getMessage() != null && e.getMessage().startsWith("BUSYGROUP")
            ? Future.succeededFuture() : Future.failedFuture(e));
  }
}
