package io.flowgate.runs;

import static io.flowgate.deployments.DbFixture.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowgate.deployments.DbFixture;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.net.ServerSocket;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/** The history buffer against real PostgreSQL: what a flush writes, and what a failed flush keeps. */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RunHistoryRepositoryTest {
  private static final Instant CREATED = Instant.parse("2026-01-02T03:04:05.123456Z");
  private Pool pool;

  @BeforeAll
  void openPool(Vertx vertx) {
    pool = DbFixture.pool(vertx, RunHistoryRepositoryTest.class);
  }

  @AfterAll
  void closePool() {
    await(pool.close());
  }

  @Test
  void writes_each_run_as_recorded_even_if_its_objects_change_afterwards_and_the_last_record_of_a_run_wins(
      Vertx vertx) {
    List<Run> ended = new ArrayList<>();
    RunHistoryRepository history = new RunHistoryRepository(vertx, pool, "node-a", 500, ended::add);
    JsonObject output = new JsonObject().put("greeting", "Hello, Ada!").put("n", 3);
    Run first = run(UUID.randomUUID().toString(), RunStatus.RUNNING, output, null);
    Run done = run(first.id(), RunStatus.COMPLETED, output, null);
    Run failed = run(UUID.randomUUID().toString(), RunStatus.FAILED, null,
        new JsonObject().put("code", "flow_failed").put("message", "node greet failed"));

    history.record(first);
    history.record(done);
    history.record(failed);
    output.put("greeting", "changed after the record"); // the row was taken when recorded
    await(history.flush());

    Row row = row(first.id());
    assertThat(row.getString("status")).isEqualTo("completed");
    assertThat(row.getJsonObject("output_data")).isEqualTo(new JsonObject().put("greeting", "Hello, Ada!").put("n", 3));
    assertThat(row.getJsonObject("node_outputs").getJsonObject("greet").getString("status")).isEqualTo("completed");
    assertThat(row.getString("node_id")).isEqualTo("node-a");
    assertThat(row.getOffsetDateTime("created_at").toInstant()).isEqualTo(CREATED);
    assertThat(row.getDouble("duration_ms")).isEqualTo(1500.0);
    Row failedRow = row(failed.id());
    assertThat(failedRow.getString("status")).isEqualTo("failed");
    assertThat(failedRow.getJsonObject("error").getString("code")).isEqualTo("flow_failed");
    assertThat(failedRow.getValue("output_data")).isNull();
    // Told once per terminal record, not for the running one.
    assertThat(ended).extracting(Run::status).containsExactly(RunStatus.COMPLETED, RunStatus.FAILED);
  }

  @Test
  void a_failed_flush_retried_tells_of_each_ended_run_once(Vertx vertx) throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    Pool unreachable = PgBuilder.pool()
        .connectingTo("postgresql://postgres@127.0.0.1:" + closedPort + "/postgres")
        .with(new PoolOptions().setMaxSize(1)).using(vertx).build();
    List<Run> ended = new ArrayList<>();
    RunHistoryRepository history = new RunHistoryRepository(vertx, unreachable, "node-b", 500, ended::add);
    Run run = run(UUID.randomUUID().toString(), RunStatus.COMPLETED, new JsonObject().put("x", 1), null);
    history.record(run);

    await(history.flush()); // fails and is logged; the row is queued again
    await(history.flush());
    assertThat(ended).hasSize(1);
    await(unreachable.close());
    assertThatThrownBy(() -> row(run.id())).isInstanceOf(IllegalStateException.class);
  }

  private Row row(String id) {
    var rows = await(pool.preparedQuery("SELECT * FROM run_history WHERE id = $1")
        .execute(Tuple.of(UUID.fromString(id))));
    if (rows.size() != 1) {
      throw new IllegalStateException("no history row for " + id);
    }
    return rows.iterator().next();
  }

  private static Run run(String id, RunStatus status, JsonObject output, JsonObject error) {
    JsonObject nodes = new JsonObject().put("greet", new JsonObject().put("status", "completed"));
    return new Run(id, UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), 1, "sync", "server", status, CREATED,
        CREATED, CREATED.plusMillis(1500), output, nodes, error, null);
  }
}
