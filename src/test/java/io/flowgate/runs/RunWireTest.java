package io.flowgate.runs;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Run#wire, built from the result members' text, is byte for byte what encoding Run#toWire gives. */
class RunWireTest {

  @Test
  void is_the_encoded_wire_form_for_every_status_and_missing_member() {
    SplittableRandom random = new SplittableRandom(7);
    List<Run> runs = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      runs.add(randomRun(random, UUID.randomUUID().toString()));
    }
    for (Run run : runs) {
      assertSameWire(run);
    }
  }

  @Test
  void an_id_that_needs_escaping_still_gives_the_encoded_form() {
    SplittableRandom random = new SplittableRandom(11);
    for (String id : new String[] {"quote\"d", "back\\slash", "tab\tnewline\n", "ünïcode", "\u007f", ""}) {
      assertSameWire(randomRun(random, id));
    }
  }

  @Test
  void outputs_with_text_that_json_escapes_and_numbers_of_every_kind() {
    JsonObject output = new JsonObject().put("text", "a \"quoted\" \\ line\nbreak \u0001 é 😀")
        .put("numbers", new JsonArray().add(0.1).add(1e300).add(-4.9e-324).add(Long.MAX_VALUE).add(3).add(1.0f))
        .put("nothing", (Object) null).put("nested", new JsonObject().put("empty", new JsonArray()));
    Instant t = Instant.parse("2026-11-23T07:00:00.123456789Z");
    Run run = new Run(UUID.randomUUID().toString(), UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), 12,
        "async", "api", RunStatus.FAILED, t, t.plusMillis(3), t.plusSeconds(2), output,
        new JsonObject().put("n1", output), new JsonObject().put("message", "it \"broke\""), null);
    assertSameWire(run);
  }

  private static void assertSameWire(Run run) {
    Buffer output = run.outputData() == null ? null : run.outputData().toBuffer();
    Buffer nodes = run.nodeOutputs() == null ? null : run.nodeOutputs().toBuffer();
    Buffer error = run.error() == null ? null : run.error().toBuffer();
    assertThat(run.wire(output, nodes, error).toString()).isEqualTo(run.toWire().toBuffer().toString());
    assertThat(run.wire(output, nodes, error).getBytes()).isEqualTo(run.toWire().toBuffer().getBytes());
  }

  private static Run randomRun(SplittableRandom random, String id) {
    RunStatus status = RunStatus.values()[random.nextInt(RunStatus.values().length)];
    Instant created = random.nextInt(10) == 0 ? null : Instant.ofEpochSecond(random.nextLong(0, 4_000_000_000L),
        random.nextInt(4) == 0 ? 0 : random.nextInt(1_000_000_000));
    Instant started = created == null || random.nextInt(4) == 0 ? null
        : created.plusNanos(random.nextLong(0, 5_000_000_000L));
    Instant finished = started == null && created == null || random.nextInt(3) == 0 ? null
        : (started != null ? started : created).plusNanos(random.nextLong(0, 90_000_000_000L));
    JsonObject output = random.nextInt(4) == 0 ? null : new JsonObject().put("prediction", random.nextDouble())
        .put("label", "class-" + random.nextInt(3)).put("features", new JsonArray().add(random.nextDouble() * 10)
            .add(random.nextInt()).add(random.nextLong()));
    JsonObject nodes = random.nextInt(4) == 0 ? null : new JsonObject().put("input", output).put("model", output);
    JsonObject error = random.nextInt(3) == 0 ? new JsonObject().put("message", "failed at " + random.nextInt()) : null;
    return new Run(id, UUID.randomUUID(), UUID.randomUUID(), random.nextBoolean() ? UUID.randomUUID() : null,
        random.nextBoolean() ? random.nextInt(1, 1000) : null, random.nextBoolean() ? "sync" : "async",
        random.nextBoolean() ? "api" : "server", status, created, started, finished, output, nodes, error,
        random.nextBoolean() ? UUID.randomUUID() : null);
  }
}
