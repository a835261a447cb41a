package io.flowgate.runs;

import static io.flowgate.deployments.DbFixture.await;
import static io.flowgate.deployments.DbFixture.awaitGatewayFailure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.deployments.DbFixture;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RunHistoryQueryTest {
  private static final Instant BASE = Instant.parse("2025-01-01T00:00:00Z");
  private static final String INSERT = """
      INSERT INTO run_history (id, profile_id, deployment_id, execution_mode, deployment_type, status, created_at)
      VALUES ($1, $2, $3, 'sync', 'api', $4, $5)
      """;

  private final UUID profile = UUID.randomUUID();
  private final UUID otherProfile = UUID.randomUUID();
  private final UUID deployment = UUID.randomUUID();
  private Pool pool;
  private RunHistoryQuery query;

  @BeforeAll
  void insertRuns(Vertx vertx) {
    pool = DbFixture.pool(vertx, RunHistoryQueryTest.class);
    query = new RunHistoryQuery(pool);
    List<Tuple> rows = new ArrayList<>();
    rows.add(run(profile, deployment, "completed", 1));
    rows.add(run(profile, deployment, "failed", 2));
    // The same deployment id under another profile: only a profile_id filter keeps it out of profile's list.
    rows.add(run(otherProfile, deployment, "completed", 3));
    // Enough other deployments' runs that the plan checks below mean something.
    for (int i = 0; i < 2_000; i++) {
      rows.add(run(profile, UUID.randomUUID(), i % 2 == 0 ? "completed" : "failed", i));
    }
    await(pool.preparedQuery(INSERT).executeBatch(rows));
    await(pool.query("ANALYZE run_history").execute());
  }

  @AfterAll
  void closePool() {
    await(pool.close());
  }

  private static Tuple run(UUID profileId, UUID deploymentId, String status, int second) {
    return Tuple.of(UUID.randomUUID(), profileId, deploymentId, status,
        BASE.plusSeconds(second).atOffset(ZoneOffset.UTC));
  }

  @Test
  void lists_only_the_profile_s_runs_even_for_a_shared_deployment_id() {
    RunHistoryQuery.Page mine = await(query.list(profile, deployment, Set.of(), 10, null));
    assertThat(mine.items()).extracting(RunHistoryQuery.Entry::status).containsExactly("failed", "completed");
    assertThat(mine.next()).isNull();
    RunHistoryQuery.Page theirs = await(query.list(otherProfile, deployment, null, 10, null));
    assertThat(theirs.items()).hasSize(1);
    assertThat(await(query.list(UUID.randomUUID(), deployment, null, 10, null)).items()).isEmpty();
  }

  @Test
  void a_full_page_links_to_the_next_and_the_last_does_not() {
    RunHistoryQuery.Page first = await(query.list(profile, deployment, Set.of("completed", "failed"), 1, null));
    assertThat(first.items()).extracting(RunHistoryQuery.Entry::status).containsExactly("failed");
    assertThat(first.next()).isEqualTo(new RunHistoryQuery.Cursor(first.items().get(0).createdAt(),
        first.items().get(0).id()));
    RunHistoryQuery.Page second = await(query.list(profile, deployment, null, 1, first.next()));
    assertThat(second.items()).extracting(RunHistoryQuery.Entry::status).containsExactly("completed");
    assertThat(second.next()).isNull();
  }

  @Test
  void refuses_limits_outside_1_to_100_and_unknown_statuses() {
    for (int limit : new int[] {0, -1, 101}) {
      GatewayException e = awaitGatewayFailure(query.list(profile, deployment, null, limit, null));
      assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
    }
    GatewayException e = awaitGatewayFailure(query.list(profile, deployment, Set.of("done"), 10, null));
    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
    assertThat(e.getMessage()).contains(RunHistoryQuery.allowedStatuses());
  }

  @Test
  void every_statement_is_served_by_a_deployment_index() {
    UUID cursorId = UUID.randomUUID();
    String at = "'" + BASE + "'::timestamptz";
    String d = "'" + deployment + "'::uuid";
    String p = "'" + profile + "'::uuid";
    assertServedByIndex(RunHistoryQuery.LIST, d, p, "21");
    assertServedByIndex(RunHistoryQuery.LIST_AFTER, d, p, at, "'" + cursorId + "'", "21");
    assertServedByIndex(RunHistoryQuery.LIST_BY_STATUS, d, p, "ARRAY['failed']", "21");
    assertServedByIndex(RunHistoryQuery.LIST_BY_STATUS_AFTER, d, p, "ARRAY['failed','completed']", at,
        "'" + cursorId + "'", "21");
  }

  /** The plan of {@code sql} with {@code $n} replaced by the literals, with sequential scans priced out. */
  private void assertServedByIndex(String sql, String... literals) {
    String explained = sql;
    for (int i = literals.length; i >= 1; i--) {
      explained = explained.replace("$" + i, literals[i - 1]);
    }
    String statement = "EXPLAIN " + explained;
    List<String> plan = await(pool.withTransaction(conn -> conn.query("SET LOCAL enable_seqscan = off").execute()
        .compose(v -> conn.query(statement).execute())
        .map(rows -> {
          List<String> lines = new ArrayList<>();
          for (Row row : rows) {
            lines.add(row.getString(0));
          }
          return lines;
        })));
    String text = String.join("\n", plan);
    assertThat(text).as(statement).contains("run_history_deployment").doesNotContain("Seq Scan");
    assertThat(text).as(statement).containsPattern("Index Cond: .*deployment_id = ");
  }

  @Test
  void a_cursor_round_trips_to_the_microsecond() {
    for (Instant at : new Instant[] {Instant.parse("2025-03-01T12:00:00.123456Z"), Instant.parse("1969-12-31T23:59:"
        + "59.999999Z"), Instant.parse("0001-01-01T00:00:00Z"), Instant.parse("9999-12-31T23:59:59.999999Z")}) {
      RunHistoryQuery.Cursor cursor = new RunHistoryQuery.Cursor(at, UUID.randomUUID());
      String wire = cursor.encode();
      assertThat(wire).matches("[A-Za-z0-9_-]+");
      assertThat(RunHistoryQuery.Cursor.decode(wire)).isEqualTo(cursor);
    }
  }

  @Test
  void a_cursor_that_was_altered_or_cut_is_refused() {
    String wire = new RunHistoryQuery.Cursor(BASE, UUID.randomUUID()).encode();
    List<String> bad = new ArrayList<>(List.of("", "x", "not base64!", wire + "=", wire + "AAAA",
        wire.substring(0, wire.length() - 1), wire.substring(4)));
    for (int i = 0; i < wire.length(); i++) {
      char c = wire.charAt(i);
      bad.add(wire.substring(0, i) + (c == 'A' ? 'B' : 'A') + wire.substring(i + 1));
    }
    byte[] bytes = Base64.getUrlDecoder().decode(wire);
    bytes[0] = 2;
    bad.add(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
    for (String value : bad) {
      assertThatThrownBy(() -> RunHistoryQuery.Cursor.decode(value)).as(value)
          .isInstanceOfSatisfying(GatewayException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST));
    }
  }
}
