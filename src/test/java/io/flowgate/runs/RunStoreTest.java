package io.flowgate.runs;

import static io.flowgate.testsupport.Futures.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
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
