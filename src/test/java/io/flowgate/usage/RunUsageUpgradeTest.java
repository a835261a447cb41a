package io.flowgate.usage;

import static io.flowgate.testsupport.Futures.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.flowgate.backends.Migrations;
import io.flowgate.backends.SchemaAt;
import io.flowgate.metrics.GatewayMetrics;
import io.flowgate.runs.Run;
import io.flowgate.runs.RunHistoryRepository;
import io.flowgate.runs.RunStatus;
import io.flowgate.testsupport.TestBackends;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Upgrading to queued-run usage per key (migration 8) on a database that a version without it wrote to: its rows keep
 * counting in the deployment's totals (as runs without a key), its runs read back without a key, and rows written
 * since, with and without a key, add up and are replaced (never added twice) by their writer's next write.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RunUsageUpgradeTest {
  private static final int BEFORE_PER_KEY = 7;

  private Vertx vertx;
  private Pool pool;

  @BeforeAll
  void start() {
    vertx = Vertx.vertx();
    String url = TestBackends.newEmptyDatabase(RunUsageUpgradeTest.class.getSimpleName());
    pool = PgBuilder.pool().connectingTo(url).with(new PoolOptions().setMaxSize(2)).using(vertx).build();
  }

  @AfterAll
  void stop() {
    await(pool.close());
    await(vertx.close());
  }

  @Test
  void rows_from_before_the_upgrade_count_for_the_deployment_and_new_rows_add_up_per_key() {
    await(SchemaAt.migrate(pool, BEFORE_PER_KEY));
    UUID deployment = UUID.randomUUID();
    UUID oldRun = UUID.randomUUID();
    Instant minute = Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(5));
    // What version 7 wrote: two queued runs in one minute (waits 10 and 30 ms, executions 100 and 300 ms), and the
    // history row of one of them.
    await(pool.preparedQuery("""
        INSERT INTO run_usage_minutes (deployment_id, minute, writer, runs, queue_wait, queue_wait_sum_ms, execution,
          execution_sum_ms) VALUES ($1, $2, 'old-node~1', 2, $3, 40, $4, 400)
        """).execute(Tuple.of(deployment, minute.atOffset(ZoneOffset.UTC), counts(10, 30), counts(100, 300))));
    await(pool.preparedQuery("""
        INSERT INTO run_history (id, profile_id, deployment_id, execution_mode, deployment_type, status, created_at,
          started_at, finished_at) VALUES ($1, $2, $3, 'async', 'api', 'completed', now(), now(), now())
        """).execute(Tuple.of(oldRun, UUID.randomUUID(), deployment)));

    assertThat(await(Migrations.migrate(pool))).isPositive();

    JsonObject upgraded = report(deployment);
    JsonObject runs = upgraded.getJsonObject("queued_runs");
    assertThat(runs.getLong("runs")).isEqualTo(2);
    assertThat(runs.getLong("runs_without_key")).isEqualTo(2);
    assertThat(runs.getJsonObject("queue_wait_ms").getDouble("total")).isEqualTo(40.0);
    assertThat(runs.getJsonObject("execution_ms").getDouble("total")).isEqualTo(400.0);
    assertThat(runs.getJsonObject("execution_ms").getDouble("p99")).isBetween(300 / 1.19, 300 * 1.19);
    assertThat(upgraded.getJsonArray("keys")).isEmpty();
    RunHistoryRepository history = new RunHistoryRepository(vertx, pool, "node-new", 100);
    assertThat(await(history.find(oldRun.toString())).apiKeyId()).isNull();

    // The new version counts a run with a key and one without, writes, counts another without, writes again.
    UsageRecorder recorder = new UsageRecorder(vertx, new UsageRepository(pool), "node-new",
        new GatewayMetrics(new SimpleMeterRegistry()), Duration.ofDays(8));
    UUID key = UUID.randomUUID();
    recorder.runEnded(ended(deployment, key, 5, 50));
    recorder.runEnded(ended(deployment, null, 1, 20));
    await(recorder.flush());
    recorder.runEnded(ended(deployment, null, 2, 30));
    await(recorder.flush());

    JsonObject now = report(deployment);
    runs = now.getJsonObject("queued_runs");
    assertThat(runs.getLong("runs")).isEqualTo(5);
    assertThat(runs.getLong("runs_without_key")).isEqualTo(4);
    assertThat(runs.getJsonObject("queue_wait_ms").getDouble("total")).isCloseTo(40 + 5 + 1 + 2, within(0.01));
    assertThat(runs.getJsonObject("execution_ms").getDouble("total")).isCloseTo(400 + 50 + 20 + 30, within(0.01));
    JsonArray keys = now.getJsonArray("keys");
    assertThat(keys).hasSize(1);
    JsonObject perKey = keys.getJsonObject(0);
    assertThat(perKey.getString("api_key_id")).isEqualTo(key.toString());
    assertThat(perKey.getLong("calls")).isZero();
    assertThat(perKey.getString("key")).as("a key the profile no longer has").isNull();
    assertThat(perKey.getJsonObject("queued_runs").getLong("runs")).isEqualTo(1);
    assertThat(perKey.getJsonObject("queued_runs").getJsonObject("execution_ms").getDouble("total"))
        .isCloseTo(50, within(0.01));

    // A run recorded since keeps its key in the history.
    Run keyed = ended(deployment, key, 1, 1);
    history.record(keyed);
    await(history.flush());
    assertThat(await(history.find(keyed.id())).apiKeyId()).isEqualTo(key);
  }

  private JsonObject report(UUID deployment) {
    return await(new UsageRepository(pool).report(deployment, UsageWindow.HOUR)).toJson(id -> null);
  }

  /** Bucket counts of these durations in milliseconds. */
  private static Long[] counts(double... ms) {
    long[] counts = new long[LatencyHistogram.BUCKETS];
    for (double d : ms) {
      counts[LatencyHistogram.bucket(d)]++;
    }
    return Arrays.stream(LatencyHistogram.trimmed(counts)).boxed().toArray(Long[]::new);
  }

  /** An async run of an api deployment that waited {@code waitMs} and executed {@code executionMs}, ended now. */
  private static Run ended(UUID deployment, UUID key, long waitMs, long executionMs) {
    Instant finished = Instant.now();
    Instant started = finished.minusMillis(executionMs);
    return new Run(UUID.randomUUID().toString(), UUID.randomUUID(), deployment, null, null, "async", "api",
        RunStatus.COMPLETED, started.minusMillis(waitMs), started, finished, new JsonObject(), new JsonObject(), null,
        key);
  }
}
