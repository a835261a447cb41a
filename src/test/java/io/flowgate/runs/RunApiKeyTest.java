package io.flowgate.runs;

import static io.flowgate.testsupport.Futures.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.TestBackends;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The id of the API key that triggered a run travels with it in Redis (for usage per key): whichever node starts,
 * restores or ends the run reads it from the run's hash, never from the accepting node's memory; and it never shows
 * in the run's wire form (the aicuflow poll answer).
 */
class RunApiKeyTest extends RunStoreTestBase {
  private static final long LATER = 60_000;

  /** A second node's view of the same Redis: its own client, nothing shared in memory with {@link #store}. */
  private RunStore otherNode() {
    Redis other = Redis.createClient(vertx, new RedisOptions().setConnectionString(TestBackends.redisUrl())
        .setPreferredProtocolVersion(ProtocolVersion.RESP2));
    return new RunStore(other, prefix, Duration.ofMinutes(5), Duration.ofMinutes(1), Duration.ofSeconds(5));
  }

  private static RunStore.Claimed start(RunStore on, Run run) {
    RunStore.Start start = await(on.start(run.id(), "", Instant.now(), "node-b", System.currentTimeMillis() + LATER,
        5));
    assertThat(start.claimed()).as("started: %s", start.refusal()).isNotNull();
    return start.claimed();
  }

  private static Run withoutKey(Run run) {
    return new Run(run.id(), run.profileId(), run.deploymentId(), run.flowId(), run.flowVersion(), run.mode(),
        run.type(), run.status(), run.createdAt(), run.startedAt(), run.finishedAt(), run.outputData(),
        run.nodeOutputs(), run.error(), null);
  }

  @Test
  void a_run_queued_on_one_node_is_started_on_another_with_its_key_and_ends_with_it() {
    Run run = queued();
    await(store.enqueue(run, new JsonObject(), "node-a", System.currentTimeMillis() + LATER));
    RunStore nodeB = otherNode();

    RunStore.Claimed claimed = start(nodeB, run);

    assertThat(claimed.apiKeyId()).isEqualTo(run.apiKeyId().toString());
    assertThat(await(nodeB.finishWithWire(run.id(), RunStatus.COMPLETED, Instant.now(),
        Buffer.buffer("{\"status\":\"completed\"}"), claimed.attempt(), false))).isTrue();
    assertThat(await(store.load(run.id())).apiKeyId()).isEqualTo(run.apiKeyId());
  }

  @Test
  void a_run_executing_in_process_and_a_restored_run_keep_their_key() {
    Run local = queued();
    await(store.acceptLocal(local, new JsonObject(), "node-a", System.currentTimeMillis() + LATER,
        System.currentTimeMillis() + LATER, ""));
    assertThat(await(otherNode().load(local.id())).apiKeyId()).isEqualTo(local.apiKeyId());

    Run restored = queued();
    assertThat(await(store.restore(restored, new JsonObject(), "node-a", System.currentTimeMillis() + LATER)))
        .isTrue();
    assertThat(start(otherNode(), restored).apiKeyId()).isEqualTo(restored.apiKeyId().toString());
  }

  @Test
  void a_run_without_a_key_and_a_run_stored_before_runs_had_keys_start_with_none() {
    Run keyless = withoutKey(queued());
    await(store.enqueue(keyless, new JsonObject(), "node-a", System.currentTimeMillis() + LATER));
    assertThat(start(store, keyless).apiKeyId()).isEmpty();
    assertThat(await(store.load(keyless.id())).apiKeyId()).isNull();

    // The hash an older version wrote has no api_key_id field at all.
    Run old = queued();
    await(redis.send(Request.cmd(Command.HSET).arg(store.runKey(old.id())).arg("status").arg("queued")
        .arg("profile").arg(old.profileId().toString()).arg("deployment").arg(old.deploymentId().toString())
        .arg("flow_id").arg(old.flowId().toString()).arg("flow_version").arg("1").arg("mode").arg("async")
        .arg("type").arg("api").arg("created_at").arg(old.createdAt().toString()).arg("input").arg("{}")
        .arg("origin").arg("node-a").arg("deadline").arg(Long.toString(System.currentTimeMillis() + LATER))
        .arg("attempt").arg("0")));
    assertThat(start(store, old).apiKeyId()).isNull();
    assertThat(await(store.load(old.id())).apiKeyId()).isNull();
  }

  @Test
  void the_key_never_shows_in_the_runs_wire_form() {
    Run run = queued();
    await(store.enqueue(run, new JsonObject(), "node-a", System.currentTimeMillis() + LATER));
    RunStore.Claimed claimed = start(store, run);
    await(store.finish(run.id(), RunStatus.COMPLETED, Instant.now(), Run.result(new JsonObject(), new JsonObject(),
        null), claimed.attempt(), false));

    Run loaded = await(store.load(run.id()));
    assertThat(loaded.apiKeyId()).isEqualTo(run.apiKeyId());
    JsonObject wire = loaded.toWire();
    assertThat(wire.fieldNames()).doesNotContain("api_key_id");
    assertThat(wire.encode()).doesNotContain(run.apiKeyId().toString());
  }
}
