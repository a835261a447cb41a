package io.flowgate.backends;

import static io.flowgate.testsupport.Futures.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.TestBackends;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One pipelined connection per event loop against a real Redis: reuse, pipelining, a broken connection replaced. */
class LoopRedisTest {
  private Vertx vertx;
  private LoopRedis redis;
  private Redis admin;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    RedisOptions options = new RedisOptions().setConnectionString(TestBackends.redisUrl())
        .setPreferredProtocolVersion(ProtocolVersion.RESP2).setMaxPoolSize(8).setMaxPoolWaiting(1024);
    redis = new LoopRedis(Redis.createClient(vertx, options));
    admin = Redis.createClient(vertx, options);
  }

  @AfterEach
  void stop() {
    await(redis.close());
    await(admin.close());
    await(vertx.close());
  }

  /** Runs {@code call} on {@code context} and hands back its future's result. */
  private static <T> T on(Context context, Supplier<Future<T>> call) {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> call.get().onComplete(promise));
    return await(promise.future());
  }

  /** A context on another event loop than {@code a}'s (Vert.x hands event loops out in turn). */
  private Context otherLoop(Context a) {
    Thread loopA = on(a, () -> Future.succeededFuture(Thread.currentThread()));
    for (int i = 0; i < 16; i++) {
      Promise<Context> started = Promise.promise();
      vertx.deployVerticle(new VerticleBase() {
        @Override
        public Future<?> start() {
          started.complete(context);
          return Future.succeededFuture();
        }
      });
      Context c = await(started.future());
      if (on(c, () -> Future.succeededFuture(Thread.currentThread())) != loopA) {
        return c;
      }
    }
    throw new AssertionError("Vert.x gave every verticle the same event loop");
  }

  private static long clientId(Response r) {
    return r.toLong();
  }

  @Test
  void commands_from_one_event_loop_share_one_connection_and_loops_do_not_share() {
    Context a = vertx.getOrCreateContext();
    long first = on(a, () -> redis.send(Request.cmd(Command.CLIENT).arg("ID")).map(LoopRedisTest::clientId));
    long second = on(a, () -> redis.send(Request.cmd(Command.CLIENT).arg("ID")).map(LoopRedisTest::clientId));
    assertThat(second).isEqualTo(first);
    // Many commands at once are pipelined on that connection, each with its own answer.
    List<Long> ids = on(a, () -> {
      List<Future<Long>> all = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        all.add(redis.send(Request.cmd(Command.CLIENT).arg("ID")).map(LoopRedisTest::clientId));
      }
      return Future.all(all).map(f -> f.<Long>list());
    });
    assertThat(ids).hasSize(200).containsOnly(first);
    List<Response> batch = on(a, () -> redis.batch(List.of(Request.cmd(Command.CLIENT).arg("ID"),
        Request.cmd(Command.PING))));
    assertThat(clientId(batch.get(0))).isEqualTo(first);
    assertThat(batch.get(1).toString()).isEqualTo("PONG");
    // Another event loop has its own connection.
    Context b = otherLoop(a);
    Thread loopA = on(a, () -> Future.succeededFuture(Thread.currentThread()));
    Thread loopB = on(b, () -> Future.succeededFuture(Thread.currentThread()));
    assertThat(loopB).isNotSameAs(loopA);
    long other = on(b, () -> redis.send(Request.cmd(Command.CLIENT).arg("ID")).map(LoopRedisTest::clientId));
    assertThat(other).isNotEqualTo(first);
  }

  /** Redis's count of socket reads so far (INFO stats). */
  private long redisReads() {
    String stats = await(admin.send(Request.cmd(Command.INFO).arg("stats"))).toString();
    for (String line : stats.split("\r?\n")) {
      if (line.startsWith("total_reads_processed:")) {
        return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
      }
    }
    throw new AssertionError("no total_reads_processed in INFO stats: " + stats);
  }

  @Test
  void commands_sent_in_one_event_loop_task_leave_in_one_write_and_keep_their_own_answers() {
    Context a = vertx.getOrCreateContext();
    String key = "loop-redis-test:" + System.nanoTime();
    // Opens the loop's connection, so that the burst below is the only traffic on it.
    on(a, () -> redis.send(Request.cmd(Command.PING)));
    long before = redisReads();
    List<String> answers = on(a, () -> {
      List<Future<String>> all = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        all.add(redis.send(Request.cmd(Command.INCR).arg(key)).map(Response::toString));
      }
      // An error reply fails its own command only.
      all.add(redis.send(Request.cmd(Command.HGET).arg(key).arg("field")).map(Response::toString)
          .otherwise(e -> e.getMessage().startsWith("WRONGTYPE") ? "refused" : e.getMessage()));
      all.add(redis.send(Request.cmd(Command.INCR).arg(key)).map(Response::toString));
      return Future.all(all).map(f -> f.<String>list());
    });
    long reads = redisReads() - before;
    List<String> expected = new ArrayList<>();
    for (int i = 1; i <= 200; i++) {
      expected.add(Integer.toString(i));
    }
    expected.add("refused");
    expected.add("201");
    assertThat(answers).containsExactlyElementsOf(expected);
    // 202 commands and the INFO after them: a handful of reads (a write may be split), not one per command.
    assertThat(reads).isLessThanOrEqualTo(12);
    await(admin.send(Request.cmd(Command.DEL).arg(key)));
  }

  @Test
  void a_killed_connection_is_replaced_on_the_next_command() {
    Context a = vertx.getOrCreateContext();
    long first = on(a, () -> redis.send(Request.cmd(Command.CLIENT).arg("ID")).map(LoopRedisTest::clientId));
    await(admin.send(Request.cmd(Command.CLIENT).arg("KILL").arg("ID").arg(first)));
    // The end of the killed connection reaches the client asynchronously: within a moment, commands work again on
    // a new connection, and none hangs.
    long replaced = -1;
    for (int i = 0; i < 50 && replaced < 0; i++) {
      // A command sent before the close was noticed fails, as on a pooled connection (-1 here).
      long id = on(a, () -> redis.send(Request.cmd(Command.CLIENT).arg("ID")).map(LoopRedisTest::clientId)
          .otherwise(-1L));
      if (id >= 0 && id != first) {
        replaced = id;
      }
      if (replaced < 0) {
        on(a, () -> {
          Promise<Void> later = Promise.promise();
          vertx.setTimer(20, t -> later.complete());
          return later.future();
        });
      }
    }
    assertThat(replaced).isPositive().isNotEqualTo(first);
  }

  @Test
  void callers_off_the_event_loops_use_the_pool() {
    assertThat(await(redis.send(Request.cmd(Command.PING))).toString()).isEqualTo("PONG");
    assertThat(await(redis.batch(List.of(Request.cmd(Command.PING)))).get(0).toString()).isEqualTo("PONG");
  }
}
