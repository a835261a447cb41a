package io.flowgate.runs;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.Futures;
import io.flowgate.webhooks.WebhookEvents;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The webhook outbox written by the run store's Lua transitions against a real Redis: the event is appended in the
 * same script as the status change, exactly once per transition whoever races for it, only for the events the run's
 * deployment subscribed to, and with one message id per run and event.
 */
class RunStoreOutboxTest extends RunStoreTestBase {
  /** The outbox entries of {@code runId}, as field maps, in order. */
  private List<Map<String, String>> events(String runId) {
    Response r = Futures.await(redis.send(Request.cmd(Command.XRANGE).arg(WebhookEvents.outboxKey(prefix))
        .arg("-").arg("+")));
    List<Map<String, String>> out = new ArrayList<>();
    for (Response entry : r) {
      Map<String, String> fields = new HashMap<>();
      Response f = entry.get(1);
      for (int i = 0; i + 1 < f.size(); i += 2) {
        fields.put(f.get(i).toString(), f.get(i + 1).toString());
      }
      if (runId.equals(fields.get("run"))) {
        out.add(fields);
      }
    }
    return out;
  }

  private RunStore.Start start(Run run) {
    return Futures.await(store.start(run.id(), "", Instant.now(), "node-a", System.currentTimeMillis() + 60_000, 5));
  }

  private static JsonObject result() {
    return Run.result(new JsonObject().put("ok", true), new JsonObject(), null);
  }

  @Test
  void a_queued_run_records_started_on_its_first_start_and_completed_when_it_ends() {
    Run run = queued();
    Futures.await(store.enqueue(run, new JsonObject(), "node-a", System.currentTimeMillis() + 60_000, "scf"));
    assertThat(events(run.id())).isEmpty();
    start(run);
    // A takeover starts it again: no second run.started.
    start(run);
    Instant finished = Instant.now();
    assertThat(Futures.await(store.finishWithWire(run.id(), RunStatus.COMPLETED, finished, Buffer.buffer("{}"), 2,
        true))).isTrue();
    List<Map<String, String>> events = events(run.id());
    assertThat(events).extracting(e -> e.get("type")).containsExactly("run.started", "run.completed");
    assertThat(events.get(0).get("msg")).isEqualTo("msg_" + run.id() + "_started");
    assertThat(events.get(1)).containsEntry("msg", "msg_" + run.id() + "_ended").containsEntry("status", "completed")
        .containsEntry("at", finished.toString()).containsEntry("deployment", run.deploymentId().toString());
  }

  @Test
  void a_stale_worker_or_a_second_ending_records_nothing() {
    Run run = queued();
    Futures.await(store.enqueue(run, new JsonObject(), "node-a", System.currentTimeMillis() + 60_000, "cf"));
    start(run);
    start(run);
    // The first attempt lost its lease: its result is refused, and so is its event.
    assertThat(Futures.await(store.finish(run.id(), RunStatus.FAILED, Instant.now(), result(), 1, false))).isFalse();
    assertThat(events(run.id())).isEmpty();
    assertThat(Futures.await(store.finish(run.id(), RunStatus.COMPLETED, Instant.now(), result(), 2, false)))
        .isTrue();
    assertThat(Futures.await(store.finish(run.id(), RunStatus.CANCELLED, Instant.now(), result(), null, true)))
        .isFalse();
    assertThat(events(run.id())).extracting(e -> e.get("type")).containsExactly("run.completed");
  }

  @Test
  void timed_out_and_cancelled_runs_record_run_failed_with_their_status() {
    for (RunStatus status : List.of(RunStatus.TIMED_OUT, RunStatus.CANCELLED)) {
      Run run = queued();
      Futures.await(store.enqueue(run, new JsonObject(), "node-a", System.currentTimeMillis() + 60_000, "f"));
      assertThat(Futures.await(store.finish(run.id(), status, Instant.now(), result(), null, true))).isTrue();
      assertThat(events(run.id())).singleElement().satisfies(e -> {
        assertThat(e.get("type")).isEqualTo("run.failed");
        assertThat(e.get("status")).isEqualTo(status.wire());
      });
    }
  }

  @Test
  void only_subscribed_events_are_recorded_and_runs_without_a_webhook_record_none() {
    Run completedOnly = queued();
    Futures.await(store.enqueue(completedOnly, new JsonObject(), "node-a", System.currentTimeMillis() + 60_000, "c"));
    start(completedOnly);
    Futures.await(store.finish(completedOnly.id(), RunStatus.FAILED, Instant.now(), result(), 1, false));
    assertThat(events(completedOnly.id())).isEmpty();

    Run plain = queued();
    Futures.await(store.enqueue(plain, new JsonObject(), "node-a", System.currentTimeMillis() + 60_000));
    start(plain);
    Futures.await(store.finish(plain.id(), RunStatus.COMPLETED, Instant.now(), result(), 1, false));
    assertThat(events(plain.id())).isEmpty();
  }

  @Test
  void an_in_process_run_records_started_when_accepted() {
    Run run = queued();
    Futures.await(store.acceptLocal(run, new JsonObject(), "node-a", System.currentTimeMillis() + 60_000,
        System.currentTimeMillis() + 30_000, "sc"));
    assertThat(events(run.id())).extracting(e -> e.get("type")).containsExactly("run.started");
    // Its lease expired and a queue worker starts it again: still one run.started.
    start(run);
    assertThat(events(run.id())).hasSize(1);
  }

  @Test
  void a_run_that_used_up_its_deliveries_records_run_failed() {
    Run run = queued();
    Futures.await(store.enqueue(run, new JsonObject(), "node-a", System.currentTimeMillis() + 60_000, "sf"));
    for (int i = 0; i < 2; i++) {
      Futures.await(store.start(run.id(), "", Instant.now(), "node-a", System.currentTimeMillis() + 60_000, 2));
    }
    RunStore.Start dead = Futures.await(store.start(run.id(), "", Instant.now(), "node-a",
        System.currentTimeMillis() + 60_000, 2));
    assertThat(dead.refusal()).isEqualTo("dead");
    assertThat(events(run.id())).extracting(e -> e.get("type") + "/" + e.get("status"))
        .containsExactly("run.started/running", "run.failed/failed");
  }

  @Test
  void a_restored_run_records_its_events_under_the_same_message_ids() {
    Run run = queued();
    Futures.await(store.restore(run, new JsonObject(), "node-a", System.currentTimeMillis() + 60_000, "s"));
    start(run);
    assertThat(events(run.id())).singleElement()
        .satisfies(e -> assertThat(e.get("msg")).isEqualTo("msg_" + run.id() + "_started"));
  }
}
