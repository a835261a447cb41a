package io.flowgate.control;

import static io.flowgate.deployments.DbFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.deployments.SampleFlows;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DeploymentRunsApiTest extends ControlApiTestBase {
  private static final String[] STATUSES = {"queued", "running", "completed", "failed", "timed_out", "cancelled"};
  private static final Instant BASE = Instant.parse("2025-03-01T12:00:00.123456Z");
  private static final String INSERT = """
      INSERT INTO run_history (id, profile_id, deployment_id, flow_id, flow_version, execution_mode, deployment_type,
        status, error, node_id, created_at, started_at, finished_at, duration_ms, input_data, output_data)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
      """;

  private String tokenA;
  private String tokenB;
  private String deploymentA;
  private String deploymentB;
  private String emptyDeploymentA;
  /** Deployment A's runs in the order the API must list them. */
  private final List<StoredRun> runsA = new ArrayList<>();
  private final List<StoredRun> runsB = new ArrayList<>();

  private record StoredRun(UUID id, String status, Instant createdAt) {}

  @BeforeAll
  void createDeploymentsWithRuns() {
    JsonObject profileA = admin(HttpMethod.POST, "/profiles", new JsonObject().put("name", "runs-a")).data();
    JsonObject profileB = admin(HttpMethod.POST, "/profiles", new JsonObject().put("name", "runs-b")).data();
    tokenA = profileA.getString("token");
    tokenB = profileB.getString("token");
    String flowA = newFlow(tokenA, SampleFlows.greeting("runs-a-flow"));
    deploymentA = newDeployment(tokenA, flowA).getString("id");
    emptyDeploymentA = newDeployment(tokenA, flowA).getString("id");
    deploymentB = newDeployment(tokenB, newFlow(tokenB, SampleFlows.greeting("runs-b-flow"))).getString("id");

    UUID profileIdA = UUID.fromString(profileA.getString("id"));
    UUID profileIdB = UUID.fromString(profileB.getString("id"));
    List<Tuple> rows = new ArrayList<>();
    // 28 runs: 24 a second apart plus 4 sharing one created_at, so that ordering and paging must break ties by id.
    for (int i = 0; i < 28; i++) {
      Instant createdAt = BASE.plusSeconds(i < 24 ? i : 30);
      StoredRun run = new StoredRun(UUID.randomUUID(), STATUSES[i % STATUSES.length], createdAt);
      runsA.add(run);
      rows.add(row(run, profileIdA, UUID.fromString(deploymentA), UUID.fromString(flowA)));
    }
    for (int i = 0; i < 3; i++) {
      StoredRun run = new StoredRun(UUID.randomUUID(), "completed", BASE.plusSeconds(100 + i));
      runsB.add(run);
      rows.add(row(run, profileIdB, UUID.fromString(deploymentB), null));
    }
    await(pool.preparedQuery(INSERT).executeBatch(rows));
    // PostgreSQL orders uuids bytewise, as their canonical lower-case text sorts; UUID.compareTo is signed.
    Comparator<StoredRun> newestFirst = Comparator.comparing(StoredRun::createdAt)
        .thenComparing(r -> r.id().toString()).reversed();
    runsA.sort(newestFirst);
    runsB.sort(newestFirst);
  }

  private static Tuple row(StoredRun run, UUID profileId, UUID deploymentId, UUID flowId) {
    boolean started = !run.status().equals("queued");
    boolean finished = started && !run.status().equals("running");
    return Tuple.tuple()
        .addUUID(run.id()).addUUID(profileId).addUUID(deploymentId).addUUID(flowId).addInteger(1)
        .addString("async").addString("api").addString(run.status())
        .addValue(run.status().equals("failed")
            ? new JsonObject().put("code", "flow_failed").put("message", "node greet failed") : null)
        .addString("node-1")
        .addOffsetDateTime(run.createdAt().atOffset(ZoneOffset.UTC))
        .addOffsetDateTime(started ? run.createdAt().plusMillis(250).atOffset(ZoneOffset.UTC) : null)
        .addOffsetDateTime(finished ? run.createdAt().plusMillis(1750).atOffset(ZoneOffset.UTC) : null)
        .addDouble(finished ? 1500.0 : null)
        .addValue(new JsonObject().put("secret_input", "do-not-list"))
        .addValue(finished ? new JsonObject().put("secret_output", "do-not-list") : null);
  }

  private Reply runs(String deploymentId, String query, String token) {
    return call(HttpMethod.GET, "/deployments/" + deploymentId + "/runs" + (query.isEmpty() ? "" : "?" + query),
        token);
  }

  private static List<String> ids(JsonObject data) {
    List<String> ids = new ArrayList<>();
    data.getJsonArray("items").forEach(item -> ids.add(((JsonObject) item).getString("flow_run_id")));
    return ids;
  }

  private static List<String> ids(List<StoredRun> runs) {
    return runs.stream().map(r -> r.id().toString()).toList();
  }

  private static void assertInvalidRequest(Reply reply) {
    assertThat(reply.status()).as("reply %s", reply.body()).isEqualTo(400);
    assertThat(reply.problemCode()).isEqualTo("invalid_request");
  }

  private static void assertNotFound(Reply reply) {
    assertThat(reply.status()).as("reply %s", reply.body()).isEqualTo(404);
    assertThat(reply.problemCode()).isEqualTo("not_found");
  }

  @Test
  void lists_the_newest_twenty_runs_first_with_their_summary() {
    Reply reply = runs(deploymentA, "", tokenA);
    assertThat(reply.status()).as("reply %s", reply.body()).isEqualTo(200);
    JsonObject data = reply.data();
    assertThat(ids(data)).containsExactlyElementsOf(ids(runsA).subList(0, 20));
    assertThat(data.getString("next_cursor")).isNotBlank();
    assertThat(reply.body().toString()).doesNotContain("do-not-list").doesNotContain("node_outputs");

    StoredRun failed = runsA.stream().filter(r -> r.status().equals("failed")).findFirst().orElseThrow();
    JsonObject item = find(data.getJsonArray("items"), failed.id());
    assertThat(item.fieldNames()).containsExactlyInAnyOrder("flow_run_id", "deployment_id", "status",
        "flow_version", "execution_mode", "deployment_type", "error", "created_at", "started_at", "finished_at",
        "duration_seconds");
    assertThat(item.getString("deployment_id")).isEqualTo(deploymentA);
    assertThat(item.getString("status")).isEqualTo("failed");
    assertThat(item.getInteger("flow_version")).isEqualTo(1);
    assertThat(item.getString("execution_mode")).isEqualTo("async");
    assertThat(item.getString("deployment_type")).isEqualTo("api");
    assertThat(item.getJsonObject("error").getString("code")).isEqualTo("flow_failed");
    assertThat(Instant.parse(item.getString("created_at"))).isEqualTo(failed.createdAt());
    assertThat(Instant.parse(item.getString("started_at"))).isEqualTo(failed.createdAt().plusMillis(250));
    assertThat(Instant.parse(item.getString("finished_at"))).isEqualTo(failed.createdAt().plusMillis(1750));
    assertThat(item.getDouble("duration_seconds")).isEqualTo(1.5);

    StoredRun queued = runsA.stream().filter(r -> r.status().equals("queued")).findFirst().orElseThrow();
    JsonObject open = find(data.getJsonArray("items"), queued.id());
    assertThat(open.containsKey("started_at")).isTrue();
    assertThat(open.getValue("started_at")).isNull();
    assertThat(open.getValue("finished_at")).isNull();
    assertThat(open.getValue("duration_seconds")).isNull();
    assertThat(open.getValue("error")).isNull();
  }

  private static JsonObject find(JsonArray items, UUID id) {
    for (Object item : items) {
      if (((JsonObject) item).getString("flow_run_id").equals(id.toString())) {
        return (JsonObject) item;
      }
    }
    throw new AssertionError("run " + id + " not in " + items);
  }

  @Test
  void pages_walk_every_run_exactly_once_and_the_last_page_has_no_cursor() {
    for (int limit : new int[] {1, 5, 7, 27, 28, 100}) {
      List<String> seen = new ArrayList<>();
      String cursor = null;
      int pages = 0;
      do {
        String query = "limit=" + limit + (cursor == null ? "" : "&cursor=" + cursor);
        JsonObject data = runs(deploymentA, query, tokenA).data();
        List<String> page = ids(data);
        assertThat(page).as("page %s with limit %s", pages, limit).isNotEmpty().hasSizeLessThanOrEqualTo(limit);
        seen.addAll(page);
        cursor = data.getString("next_cursor");
        pages++;
      } while (cursor != null && pages < 100);
      assertThat(seen).as("limit %s", limit).containsExactlyElementsOf(ids(runsA));
      assertThat(pages).as("limit %s", limit).isEqualTo((runsA.size() + limit - 1) / limit);
    }
  }

  @Test
  void filters_by_one_status() {
    JsonObject data = runs(deploymentA, "status=failed", tokenA).data();
    List<String> expected = ids(runsA.stream().filter(r -> r.status().equals("failed")).toList());
    assertThat(expected).isNotEmpty();
    assertThat(ids(data)).containsExactlyElementsOf(expected);
    assertThat(data.getValue("next_cursor")).isNull();
    assertThat(data.containsKey("next_cursor")).isTrue();
  }

  @Test
  void filters_by_several_statuses_repeated_or_comma_separated() {
    Set<String> wanted = Set.of("completed", "timed_out", "cancelled");
    List<String> expected = ids(runsA.stream().filter(r -> wanted.contains(r.status())).toList());
    assertThat(ids(runs(deploymentA, "status=completed&status=timed_out&status=cancelled", tokenA).data()))
        .containsExactlyElementsOf(expected);
    assertThat(ids(runs(deploymentA, "status=completed,timed_out,cancelled", tokenA).data()))
        .containsExactlyElementsOf(expected);
    assertThat(ids(runs(deploymentA, "status=completed,%20timed_out&status=cancelled&limit=100", tokenA).data()))
        .containsExactlyElementsOf(expected);
  }

  @Test
  void pages_through_a_status_filter() {
    List<String> expected = ids(runsA.stream().filter(r -> !r.status().equals("queued")).toList());
    List<String> seen = new ArrayList<>();
    String cursor = null;
    do {
      JsonObject data = runs(deploymentA, "status=running,completed,failed,timed_out,cancelled&limit=4"
          + (cursor == null ? "" : "&cursor=" + cursor), tokenA).data();
      seen.addAll(ids(data));
      cursor = data.getString("next_cursor");
    } while (cursor != null && seen.size() <= expected.size());
    assertThat(seen).containsExactlyElementsOf(expected);
  }

  @Test
  void refuses_an_unknown_status_naming_the_allowed_values() {
    for (String query : new String[] {"status=done", "status=COMPLETED", "status=completed,bogus", "status=",
        "status=completed,", "status=completed&status=nope"}) {
      Reply reply = runs(deploymentA, query, tokenA);
      assertInvalidRequest(reply);
      assertThat(reply.message()).as(query).contains("queued, running, completed, failed, timed_out, cancelled");
    }
  }

  @Test
  void accepts_limits_from_1_to_100_only() {
    assertThat(ids(runs(deploymentA, "limit=1", tokenA).data())).containsExactly(runsA.get(0).id().toString());
    assertThat(ids(runs(deploymentA, "limit=100", tokenA).data())).hasSize(runsA.size());
    for (String limit : new String[] {"0", "101", "-1", "1000", "abc", "1.5", "", "%20", "99999999999", "1e2"}) {
      Reply reply = runs(deploymentA, "limit=" + limit, tokenA);
      assertInvalidRequest(reply);
      assertThat(reply.message()).as(limit).contains("\"limit\"").contains("1 to 100");
    }
    assertInvalidRequest(runs(deploymentA, "limit=5&limit=6", tokenA));
  }

  @Test
  void refuses_a_cursor_it_did_not_issue() {
    String cursor = runs(deploymentA, "limit=3", tokenA).data().getString("next_cursor");
    assertThat(runs(deploymentA, "cursor=" + cursor, tokenA).status()).isEqualTo(200);
    char flipped = cursor.charAt(10) == 'A' ? 'B' : 'A';
    List<String> bad = List.of(
        "garbage",
        "",
        "!!!!",
        cursor.substring(0, cursor.length() - 2),
        cursor + "AA",
        cursor.substring(0, 10) + flipped + cursor.substring(11),
        cursor + "=",
        Base64.getUrlEncoder().withoutPadding().encodeToString("2025-03-01T12:00:00Z|x".getBytes(
            StandardCharsets.UTF_8)));
    for (String value : bad) {
      Reply reply = runs(deploymentA, "cursor=" + URLEncoder.encode(value, StandardCharsets.UTF_8), tokenA);
      assertInvalidRequest(reply);
      assertThat(reply.message()).as(value).contains("\"cursor\"");
    }
  }

  @Test
  void another_profile_s_deployment_is_404_exactly_like_a_missing_one() {
    Reply foreign = runs(deploymentA, "", tokenB);
    assertNotFound(foreign);
    String missingId = UUID.randomUUID().toString();
    Reply missing = runs(missingId, "", tokenB);
    assertNotFound(missing);
    assertThat(foreign.message().replace(deploymentA, "ID")).isEqualTo(missing.message().replace(missingId, "ID"));
    assertThat(foreign.body().toString()).doesNotContain(runsA.get(0).id().toString());
    // Validation of the query does not reveal whether the deployment exists either.
    assertNotFound(runs(deploymentA, "limit=5&status=failed", tokenB));
    assertNotFound(runs(deploymentB, "", tokenA));
    assertNotFound(runs(deploymentA, "", ADMIN_TOKEN));
  }

  @Test
  void a_profile_lists_only_its_own_deployment_s_runs() {
    assertThat(ids(runs(deploymentB, "", tokenB).data())).containsExactlyElementsOf(ids(runsB));
    JsonObject empty = runs(emptyDeploymentA, "", tokenA).data();
    assertThat(empty.getJsonArray("items")).isEmpty();
    assertThat(empty.containsKey("next_cursor")).isTrue();
    assertThat(empty.getValue("next_cursor")).isNull();
  }

  @Test
  void unknown_and_malformed_deployment_ids_are_404() {
    assertNotFound(runs(UUID.randomUUID().toString(), "", tokenA));
    assertNotFound(runs("not-a-uuid", "", tokenA));
    assertNotFound(runs(deploymentA.substring(1), "", tokenA));
    assertNotFound(runs(deploymentA.toUpperCase().replace('-', '_'), "", tokenA));
  }

  @Test
  void needs_a_bearer_token() {
    Reply reply = runs(deploymentA, "", null);
    assertThat(reply.status()).isEqualTo(401);
    assertThat(reply.problemCode()).isEqualTo("unauthorized");
    Reply wrong = runs(deploymentA, "", "mt-not-a-real-token");
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.problemCode()).isEqualTo("unauthorized");
  }

  @Test
  void every_run_is_listed_once_even_with_ties_on_created_at() {
    JsonObject data = runs(deploymentA, "limit=100", tokenA).data();
    List<String> listed = ids(data);
    assertThat(new HashSet<>(listed)).hasSize(runsA.size());
    // The four newest share one created_at: the API breaks the tie by id, descending.
    assertThat(listed.subList(0, 4)).containsExactlyElementsOf(ids(runsA).subList(0, 4));
    assertThat(listed.subList(0, 4)).isSortedAccordingTo(Comparator.reverseOrder());
  }
}
