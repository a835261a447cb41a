package io.flowgate.runs;

import static io.flowgate.testsupport.Futures.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.testsupport.Futures;
import io.flowgate.testsupport.TestBackends;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The run store's transitions against a real Redis: one terminal transition, fencing on the attempt, leases and
 * their expiry, dead letters, restore.
 */
class RunStoreTest extends RunStoreTestBase {
  private RunStore.Start start(Run run, int maxDeliveries) {
    return await(store.start(run.id(), "", Instant.now(), "node-a", System.currentTimeMillis() + 60_000,
        maxDeliveries));
  }

  @Test
  void a_run_has_exactly_one_terminal_transition() {
    Run run = queued();
    await(store.enqueue(run, new JsonObject().put("x", 1), "node-a", System.currentTimeMillis() + 60_000));
    RunStore.Start s = start(run, 5);
    assertThat(s.claimed()).isNotNull();
    assertThat(s.claimed().attempt()).isEqualTo(1);
    assertThat(s.claimed().input()).isEqualTo("{\"x\":1}");
    JsonObject result = Run.result(new JsonObject().put("ok", true), new JsonObject(), null);
    assertThat(await(store.finish(run.id(), RunStatus.COMPLETED, Instant.now(), result, 1, false))).isTrue();
    assertThat(await(store.finish(run.id(), RunStatus.FAILED, Instant.now(), result, 1, false))).isFalse();
    assertThat(await(store.finish(run.id(), RunStatus.CANCELLED, Instant.now(), result, null, true))).isFalse();
    Run loaded = await(store.load(run.id()));
    assertThat(loaded.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(loaded.outputData()).isEqualTo(new JsonObject().put("ok", true));
    // An ended run is not started again.
    assertThat(start(run, 5).refusal()).isEqualTo("completed");
  }

  @Test
  void a_done_notice_carries_the_wire_form_only_when_asked_and_names_the_run_first_either_way() {
    RedisConnection subscriber = await(Redis.createClient(vertx, new RedisOptions()
        .setConnectionString(TestBackends.redisUrl()).setPreferredProtocolVersion(ProtocolVersion.RESP2)).connect());
    BlockingQueue<String> notices = new LinkedBlockingQueue<>();
    subscriber.handler(message -> {
      if (message.size() == 3 && "message".equals(message.get(0).toString())) {
        notices.add(message.get(2).toString());
      }
    });
    await(subscriber.send(Request.cmd(Command.SUBSCRIBE).arg(store.doneChannel())));
    try {
      Buffer wire = Buffer.buffer("{\"flow_run_id\":\"x\",\"status\":\"completed\"}");
      Run announced = queued();
      Run quiet = queued();
      for (Run run : List.of(announced, quiet)) {
        await(store.enqueue(run, new JsonObject(), "node-a", System.currentTimeMillis() + 60_000));
        assertThat(start(run, 5).claimed()).isNotNull();
      }
      assertThat(await(store.finishWithWire(announced.id(), RunStatus.COMPLETED, Instant.now(), wire, 1, true)))
          .isTrue();
      assertThat(await(store.finishWithWire(quiet.id(), RunStatus.COMPLETED, Instant.now(), wire, 1, false)))
          .isTrue();
      assertThat(notices.poll(5, TimeUnit.SECONDS))
          .isEqualTo(announced.id() + " completed " + wire);
      assertThat(notices.poll(5, TimeUnit.SECONDS)).isEqualTo(quiet.id());
      // Either way the run's wire form is stored, for whoever reads it back.
      assertThat(await(store.loadView(quiet.id())).wire()).isEqualTo(wire);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    } finally {
      subscriber.close();
    }
  }

  @Test
  void ended_sync_runs_are_kept_for_the_sync_ttl_and_async_runs_for_the_longer_one() {
    Run async = queued();
    Run sync = new Run(UUID.randomUUID().toString(), async.profileId(), async.deploymentId(), async.flowId(), 1,
        "sync", "api", RunStatus.QUEUED, Instant.now(), null, null, null, null, null, async.apiKeyId());
    JsonObject result = Run.result(new JsonObject(), new JsonObject(), null);
    for (Run run : new Run[] {async, sync}) {
      await(store.enqueue(run, new JsonObject(), "node-a", System.currentTimeMillis() + 60_000));
      // Queued runs never expire: they must not vanish before they run.
      assertThat(ttl(run)).isEqualTo(-1);
      start(run, 5);
      await(store.finish(run.id(), RunStatus.COMPLETED, Instant.now(), result, 1, false));
    }
    assertThat(ttl(async)).isBetween(61L, 300L);
    assertThat(ttl(sync)).isBetween(1L, 60L);
  }

  @Test
  void runs_that_end_in_one_turn_of_an_event_loop_are_saved_in_one_transaction_each_batch_of_64() {
    List<Run> runs = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      runs.add(serverRun(UUID.randomUUID().toString()));
    }
    long callsBefore = store.transactions.get();
    Promise<Void> all = Promise.promise();
    vertx.runOnContext(v -> {
      List<Future<Void>> saves = new ArrayList<>();
      for (Run run : runs) {
        saves.add(store.save(run, Buffer.buffer("{\"flow_run_id\":\"" + run.id() + "\"}")));
      }
      Future.all(saves).<Void>mapEmpty().onComplete(all);
    });
    await(all.future());
    // 100 runs in one turn: one transaction of 64, one of 36.
    assertThat(store.transactions.get() - callsBefore).isEqualTo(2);
    for (Run run : runs) {
      Run loaded = await(store.load(run.id()));
      assertThat(loaded.status()).isEqualTo(RunStatus.COMPLETED);
      assertThat(loaded.deploymentId()).isEqualTo(run.deploymentId());
      assertThat(loaded.createdAt()).isEqualTo(run.createdAt());
      assertThat(loaded.finishedAt()).isEqualTo(run.finishedAt());
      assertThat(await(store.loadView(run.id())).wire().toString()).contains(run.id());
      assertThat(ttl(run)).isBetween(1L, 60L);
    }
  }

  @Test
  void runs_enqueued_in_one_turn_of_an_event_loop_share_one_transaction_with_the_runs_that_end_in_it() {
    List<Run> queued = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      queued.add(queued());
    }
    Run ended = serverRun(UUID.randomUUID().toString());
    long deadline = System.currentTimeMillis() + 60_000;
    long before = store.transactions.get();
    Promise<Void> all = Promise.promise();
    vertx.runOnContext(v -> {
      List<Future<Void>> writes = new ArrayList<>();
      for (Run run : queued) {
        writes.add(store.enqueue(run, new JsonObject().put("n", queued.indexOf(run)), "node-a", deadline));
      }
      writes.add(store.save(ended, Buffer.buffer("{}")));
      Future.all(writes).<Void>mapEmpty().onComplete(all);
    });
    await(all.future());
    assertThat(store.transactions.get() - before).isEqualTo(1);
    assertThat(await(store.load(ended.id())).status()).isEqualTo(RunStatus.COMPLETED);
    // Each enqueued run is queued as enqueue alone would leave it: its hash, its deadline, its queue entry, in order.
    List<String> entries = new ArrayList<>();
    for (Response e : await(redis.send(Request.cmd(Command.XRANGE).arg(prefix + "runs").arg("-").arg("+")))) {
      entries.add(e.get(1).get(1).toString());
    }
    List<String> ids = queued.stream().map(Run::id).toList();
    assertThat(entries.stream().filter(ids::contains).toList()).containsExactlyElementsOf(ids);
    for (Run run : queued) {
      Map<String, String> hash = RunStore.toMap(await(redis.send(Request.cmd(Command.HGETALL)
          .arg(prefix + "run:" + run.id()))));
      assertThat(hash).containsEntry("status", "queued").containsEntry("attempt", "0")
          .containsEntry("input", "{\"n\":" + queued.indexOf(run) + "}")
          .containsEntry("api_key_id", run.apiKeyId().toString()).containsEntry("origin", "node-a")
          .containsEntry("deadline", Long.toString(deadline)).containsEntry("notify", "");
      assertThat(ttl(run)).isEqualTo(-1);
      assertThat(await(redis.send(Request.cmd(Command.ZSCORE).arg(prefix + "deadlines").arg(run.id()))).toLong())
          .isEqualTo(deadline);
      assertThat(start(run, 5).claimed().input()).isEqualTo("{\"n\":" + queued.indexOf(run) + "}");
    }
  }

  @Test
  void a_write_redis_refuses_fails_alone_and_the_rest_of_its_transaction_lands() {
    Run clash = serverRun(UUID.randomUUID().toString());
    Run fine = serverRun(UUID.randomUUID().toString());
    // A string where the run's hash belongs: its HSET gets WRONGTYPE inside the EXEC.
    await(redis.send(Request.cmd(Command.SET).arg(prefix + "run:" + clash.id()).arg("not a hash")));
    long before = store.transactions.get();
    Promise<List<Future<Void>>> both = Promise.promise();
    vertx.runOnContext(v -> {
      List<Future<Void>> saves = List.of(store.save(clash, Buffer.buffer("{}")), store.save(fine, Buffer.buffer("{}")));
      Future.join(saves).onComplete(ar -> both.complete(saves));
    });
    List<Future<Void>> saves = await(both.future());
    assertThat(store.transactions.get() - before).isEqualTo(1);
    assertThat(saves.get(0).failed()).isTrue();
    assertThat(saves.get(0).cause()).isInstanceOfSatisfying(GatewayException.class,
        e -> assertThat(e.code()).isEqualTo(ErrorCode.SERVICE_UNAVAILABLE));
    assertThat(saves.get(1).succeeded()).isTrue();
    assertThat(await(store.load(fine.id())).status()).isEqualTo(RunStatus.COMPLETED);
  }

  @Test
  void the_starts_and_the_finishes_of_one_turn_go_in_one_script_call_each_and_each_run_gets_its_own_outcome() {
    long deadline = System.currentTimeMillis() + 60_000;
    List<Run> runs = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Run run = queued();
      runs.add(run);
      await(store.enqueue(run, new JsonObject().put("n", i), "node-a", deadline));
    }
    // One that ended before its start (cancelled while queued), one that does not exist.
    await(store.finish(runs.get(3).id(), RunStatus.CANCELLED, Instant.now(), Run.result(null, new JsonObject(), null),
        null, true));
    String unknown = UUID.randomUUID().toString();
    long calls = store.scriptCalls.get();
    Promise<List<RunStore.Start>> started = Promise.promise();
    vertx.runOnContext(v -> {
      List<Future<RunStore.Start>> starts = new ArrayList<>();
      for (Run run : runs) {
        starts.add(store.start(run.id(), "", Instant.now(), "node-a", System.currentTimeMillis() + 60_000, 5));
      }
      starts.add(store.start(unknown, "", Instant.now(), "node-a", System.currentTimeMillis() + 60_000, 5));
      Future.all(starts).map(x -> starts.stream().map(Future::result).toList()).onComplete(started);
    });
    List<RunStore.Start> outcomes = await(started.future());
    assertThat(store.scriptCalls.get() - calls).isEqualTo(1);
    for (int i = 0; i < runs.size(); i++) {
      if (i == 3) {
        assertThat(outcomes.get(i).refusal()).isEqualTo("cancelled");
      } else {
        assertThat(outcomes.get(i).claimed().input()).isEqualTo("{\"n\":" + i + "}");
        assertThat(outcomes.get(i).claimed().attempt()).isEqualTo(1);
      }
    }
    assertThat(outcomes.get(10).refusal()).isEqualTo("missing");

    // Finished in one turn: run 5 by a stale attempt (refused), the cancelled one again (refused), the rest won.
    Promise<List<Boolean>> finished = Promise.promise();
    vertx.runOnContext(v -> {
      List<Future<Boolean>> finishes = new ArrayList<>();
      for (int i = 0; i < runs.size(); i++) {
        finishes.add(store.finishWithWire(runs.get(i).id(), RunStatus.COMPLETED, Instant.now(),
            Buffer.buffer("{\"n\":" + i + "}"), i == 5 ? 2 : 1, true));
      }
      Future.all(finishes).map(x -> finishes.stream().map(Future::result).toList()).onComplete(finished);
    });
    List<Boolean> won = await(finished.future());
    assertThat(store.scriptCalls.get() - calls).isEqualTo(2);
    for (int i = 0; i < runs.size(); i++) {
      assertThat(won.get(i)).as("run %d", i).isEqualTo(i != 3 && i != 5);
      RunStatus expected = i == 3 ? RunStatus.CANCELLED : i == 5 ? RunStatus.RUNNING : RunStatus.COMPLETED;
      assertThat(await(store.load(runs.get(i).id())).status()).as("run %d", i).isEqualTo(expected);
    }
    assertThat(await(store.loadView(runs.get(0).id())).wire().toString()).isEqualTo("{\"n\":0}");
  }

  @Test
  void a_sync_run_saved_off_an_event_loop_is_saved_at_once() {
    Run run = serverRun(UUID.randomUUID().toString());
    await(store.save(run, Buffer.buffer("{}")));
    assertThat(await(store.load(run.id())).status()).isEqualTo(RunStatus.COMPLETED);
  }

  @Test
  void saving_a_sync_run_to_an_unreachable_redis_fails_with_503_on_and_off_an_event_loop() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    Redis down = Redis.createClient(vertx, new RedisOptions().setConnectionString("redis://127.0.0.1:" + closedPort)
        .setPreferredProtocolVersion(ProtocolVersion.RESP2));
    try {
      RunStore unreachable = new RunStore(down, prefix, Duration.ofMinutes(5), Duration.ofMinutes(1),
          Duration.ofSeconds(5));
      Promise<Void> onLoop = Promise.promise();
      vertx.runOnContext(v -> unreachable.save(serverRun(UUID.randomUUID().toString()), Buffer.buffer("{}"))
          .onComplete(onLoop));
      for (Future<Void> save : List.of(onLoop.future(),
          unreachable.save(serverRun(UUID.randomUUID().toString()), Buffer.buffer("{}")))) {
        Throwable failure = Futures.awaitFailure(save);
        assertThat(failure).isInstanceOfSatisfying(GatewayException.class, e -> {
          assertThat(e.code()).isEqualTo(ErrorCode.SERVICE_UNAVAILABLE);
          assertThat(e.retryAfterSeconds()).isPositive();
        });
      }
    } finally {
      down.close();
    }
  }

  /** A plain sync server run that ended now, as RunService#runInProcess saves it. */
  private static Run serverRun(String id) {
    Instant now = Instant.now();
    return new Run(id, UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), 1, "sync", "server",
        RunStatus.COMPLETED, now, now, now, new JsonObject(), new JsonObject(), null, null);
  }

  private long ttl(Run run) {
    return await(redis.send(Request.cmd(Command.TTL).arg(prefix + "run:" + run.id()))).toLong();
  }

  @Test
  void a_stale_worker_cannot_finish_a_run_that_was_taken_over() {
    Run run = queued();
    await(store.enqueue(run, new JsonObject(), "node-a", System.currentTimeMillis() + 60_000));
    assertThat(start(run, 5).claimed().attempt()).isEqualTo(1);
    // The lease expired and another worker started it again.
    assertThat(start(run, 5).claimed().attempt()).isEqualTo(2);
    JsonObject result = Run.result(new JsonObject(), new JsonObject(), null);
    assertThat(await(store.finish(run.id(), RunStatus.COMPLETED, Instant.now(), result, 1, false))).isFalse();
    assertThat(await(store.load(run.id())).status()).isEqualTo(RunStatus.RUNNING);
    assertThat(await(store.finish(run.id(), RunStatus.COMPLETED, Instant.now(), result, 2, false))).isTrue();
  }

  @Test
  void heartbeats_renew_only_leases_still_held_at_the_same_attempt() {
    Run run = queued();
    await(store.enqueue(run, new JsonObject(), "node-a", System.currentTimeMillis() + 60_000));
    start(run, 5);
    assertThat(await(store.heartbeat("node-a", System.currentTimeMillis() + 60_000, Map.of(run.id(), 1)))).isEmpty();
    assertThat(await(store.heartbeat("node-a", System.currentTimeMillis() + 60_000, Map.of(run.id(), 7))))
        .containsExactly(run.id());
    assertThat(await(store.heartbeat("node-b", System.currentTimeMillis() + 60_000, Map.of(run.id(), 1))))
        .containsExactly(run.id());
  }

  @Test
  void an_expired_lease_puts_the_run_back_on_the_queue_once() {
    Run run = queued();
    await(store.enqueue(run, new JsonObject(), "node-a", System.currentTimeMillis() + 60_000));
    await(store.start(run.id(), "", Instant.now(), "node-a", System.currentTimeMillis() - 1, 5));
    long now = System.currentTimeMillis();
    assertThat(await(store.expiredLeases(now, 100))).contains(run.id());
    assertThat(await(store.requeue(run.id(), now))).isTrue();
    assertThat(await(store.requeue(run.id(), now))).isFalse();
    assertThat(await(store.load(run.id())).status()).isEqualTo(RunStatus.QUEUED);
    assertThat(await(store.expiredLeases(now, 100))).doesNotContain(run.id());
  }

  @Test
  void a_run_that_keeps_losing_its_worker_ends_failed_after_max_deliveries() {
    Run run = queued();
    await(store.enqueue(run, new JsonObject(), "node-a", System.currentTimeMillis() + 60_000));
    assertThat(start(run, 2).claimed()).isNotNull();
    assertThat(start(run, 2).claimed()).isNotNull();
    assertThat(start(run, 2).refusal()).isEqualTo("dead");
    Run dead = await(store.load(run.id()));
    assertThat(dead.status()).isEqualTo(RunStatus.FAILED);
    assertThat(dead.error().getString("message")).contains("2 times");
  }

  @Test
  void runs_past_their_deadline_are_found_until_they_end() {
    Run run = queued();
    await(store.enqueue(run, new JsonObject(), "node-a", System.currentTimeMillis() - 10));
    assertThat(await(store.pastDeadline(System.currentTimeMillis(), 1000))).contains(run.id());
    await(store.finish(run.id(), RunStatus.TIMED_OUT, Instant.now(), Run.result(null, new JsonObject(), null), null,
        true));
    assertThat(await(store.pastDeadline(System.currentTimeMillis(), 1000))).doesNotContain(run.id());
  }

  @Test
  void restore_recreates_a_lost_run_only_when_redis_has_none() {
    Run run = queued();
    assertThat(await(store.restore(run, new JsonObject().put("a", 1), "node-a", System.currentTimeMillis() + 1000)))
        .isTrue();
    assertThat(await(store.restore(run, new JsonObject(), "node-a", System.currentTimeMillis() + 1000))).isFalse();
    assertThat(await(store.load(run.id())).status()).isEqualTo(RunStatus.QUEUED);
    String len = await(redis.send(Request.cmd(Command.XLEN).arg(prefix + "runs"))).toString();
    assertThat(Integer.parseInt(len)).isGreaterThanOrEqualTo(1);
  }
}
