package io.flowgate.deployments;

import static io.flowgate.deployments.DbFixture.await;
import static io.flowgate.deployments.DbFixture.awaitFailure;
import static io.flowgate.deployments.DbFixture.awaitGatewayFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class DeploymentRepositoryTest {
  private static Pool pool;
  private static FlowRepository flows;
  private static DeploymentRepository deployments;
  private static ApiKeyRepository keys;
  private static UUID profileA;
  private static UUID profileB;
  private static StoredFlow flowA;

  @BeforeAll
  static void startDatabase(Vertx vertx) {
    pool = DbFixture.pool(vertx, DeploymentRepositoryTest.class);
    flows = new FlowRepository(pool);
    deployments = new DeploymentRepository(pool);
    keys = new ApiKeyRepository(pool);
    ProfileRepository profiles = new ProfileRepository(pool);
    profileA = await(profiles.create("a")).profile().id();
    profileB = await(profiles.create("b")).profile().id();
    flowA = await(flows.create(profileA, SampleFlows.greeting("flow-a")));
  }

  @AfterAll
  static void closePool() {
    await(pool.close());
  }

  private static DeploymentSettings settings(JsonObject json) {
    return DeploymentSettings.parse(json, false);
  }

  private static JsonObject onFlowA() {
    return new JsonObject().put("flow_id", flowA.id().toString());
  }

  @Test
  void creates_a_deployment_with_defaults_and_its_first_key() {
    NewDeployment created = await(deployments.create(profileA, settings(onFlowA())));
    Deployment d = created.deployment();
    assertThat(d.name()).isEqualTo("flow-a");
    assertThat(d.executionMode()).isEqualTo(ExecutionMode.SYNC);
    assertThat(d.deploymentType()).isEqualTo(DeploymentType.API);
    assertThat(d.flowVersion()).isEqualTo(1);
    assertThat(d.createdAt()).isNotNull();
    assertThat(created.firstKey().plainKey()).startsWith("sk-");
    assertThat(ApiKeys.wellFormed(created.firstKey().plainKey())).isTrue();
    ApiKey stored = await(keys.findByHash(ApiKeys.hash(created.firstKey().plainKey())));
    assertThat(stored.deploymentId()).isEqualTo(d.id());
    assertThat(stored.mayCall(d)).isTrue();
    JsonObject json = created.toJson();
    assertThat(json.getString("api_key")).isEqualTo(created.firstKey().plainKey());
    assertThat(json.getString("api_key_id")).isEqualTo(stored.id().toString());
    assertThat(json.getString("api_key_masked")).isEqualTo(ApiKeys.mask(created.firstKey().plainKey()));
  }

  @Test
  void stores_every_setting() {
    UUID server = UUID.randomUUID();
    JsonObject body = onFlowA().put("name", "tuned").put("execution_mode", "async").put("deployment_type", "server")
        .put("timeout_seconds", 30).put("max_body_bytes", 2048).put("inference_server_id", server.toString())
        .put("rate_limit", new JsonObject().put("requests_per_second", 50).put("burst", 100))
        .put("notification", new JsonObject().put("method", "webhook").put("url", "https://example.com/hook"));
    Deployment d = await(deployments.create(profileA, settings(body))).deployment();
    Deployment read = await(deployments.get(profileA, d.id()));
    assertThat(read).isEqualTo(d);
    assertThat(read.executionMode()).isEqualTo(ExecutionMode.ASYNC);
    assertThat(read.deploymentType()).isEqualTo(DeploymentType.SERVER);
    assertThat(read.timeoutSeconds()).isEqualTo(30);
    assertThat(read.maxBodyBytes()).isEqualTo(2048);
    assertThat(read.inferenceServerId()).isEqualTo(server);
    assertThat(read.rateLimit().getInteger("burst")).isEqualTo(100);
    assertThat(read.notification().getJsonArray("events")).hasSize(3);
  }

  @Test
  void a_fast_deployment_needs_no_flow_but_an_inference_server() {
    JsonObject fast = new JsonObject().put("execution_mode", "fast").put("name", "fast-one");
    assertThat(awaitGatewayFailure(deployments.create(profileA, settings(fast))).detail())
        .contains("inference_server_id");
    Deployment d = await(deployments.create(profileA, settings(fast.put("inference_server_id",
        UUID.randomUUID().toString())))).deployment();
    assertThat(d.flowId()).isNull();
    assertThat(d.flowVersion()).isNull();
  }

  @Test
  void refuses_a_flow_of_another_profile_as_not_found() {
    GatewayException e = awaitGatewayFailure(deployments.create(profileB, settings(onFlowA())));
    assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(e.detail()).contains(flowA.id().toString());
    assertThat(awaitGatewayFailure(deployments.create(profileA,
        settings(new JsonObject().put("flow_id", UUID.randomUUID().toString())))).code())
        .isEqualTo(ErrorCode.NOT_FOUND);
  }

  @Test
  void another_profile_sees_nothing_of_the_deployment() {
    Deployment d = await(deployments.create(profileA, settings(onFlowA()))).deployment();
    assertThat(await(deployments.get(profileB, d.id()))).isNull();
    assertThat(await(deployments.list(profileB))).extracting(Deployment::id).doesNotContain(d.id());
    assertThat(awaitGatewayFailure(deployments.patch(profileB, d.id(),
        DeploymentSettings.parse(new JsonObject().put("name", "x"), true))).code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(awaitGatewayFailure(deployments.redeploy(profileB, d.id())).code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(awaitGatewayFailure(deployments.delete(profileB, d.id())).code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(await(deployments.findById(d.id()))).isEqualTo(await(deployments.get(profileA, d.id())));
  }

  @Test
  void patch_changes_only_the_given_settings_and_null_clears() {
    Deployment d = await(deployments.create(profileA, settings(onFlowA().put("timeout_seconds", 30)))).deployment();
    Deployment patched = await(deployments.patch(profileA, d.id(), DeploymentSettings.parse(new JsonObject()
        .put("name", "renamed").put("execution_mode", "async").putNull("timeout_seconds"), true)));
    assertThat(patched.name()).isEqualTo("renamed");
    assertThat(patched.executionMode()).isEqualTo(ExecutionMode.ASYNC);
    assertThat(patched.timeoutSeconds()).isNull();
    assertThat(patched.deploymentType()).isEqualTo(d.deploymentType());
    assertThat(patched.flowVersion()).isEqualTo(d.flowVersion());
  }

  @Test
  void redeploy_pins_the_latest_version() {
    StoredFlow flow = await(flows.create(profileA, SampleFlows.greeting("moving")));
    Deployment d = await(deployments.create(profileA, settings(new JsonObject().put("flow_id", flow.id().toString()))))
        .deployment();
    await(flows.update(profileA, flow.id(), SampleFlows.greeting("moving-2")));
    assertThat(await(deployments.get(profileA, d.id())).flowVersion()).isEqualTo(1);
    assertThat(await(deployments.redeploy(profileA, d.id())).flowVersion()).isEqualTo(2);
    Deployment pinned = await(deployments.patch(profileA, d.id(),
        DeploymentSettings.parse(new JsonObject().put("flow_version", 1), true)));
    assertThat(pinned.flowVersion()).isEqualTo(1);
    assertThat(awaitGatewayFailure(deployments.patch(profileA, d.id(),
        DeploymentSettings.parse(new JsonObject().put("flow_version", 9), true))).code())
        .isEqualTo(ErrorCode.INVALID_REQUEST);
  }

  @Test
  void delete_removes_the_deployment_and_its_keys() {
    NewDeployment created = await(deployments.create(profileA, settings(onFlowA())));
    await(deployments.delete(profileA, created.deployment().id()));
    assertThat(await(deployments.findById(created.deployment().id()))).isNull();
    assertThat(await(keys.findByHash(ApiKeys.hash(created.firstKey().plainKey())))).isNull();
  }

  @Test
  void creates_the_deployment_and_its_first_key_in_one_transaction() {
    // The second deployment's first key collides with the first's hash: the insert of the key fails after the
    // deployment row was written, and the transaction must leave nothing behind.
    String fixed = ApiKeys.generate();
    DeploymentRepository colliding = new DeploymentRepository(pool, new ApiKeyRepository(pool, () -> fixed));
    await(colliding.create(profileA, settings(onFlowA().put("name", "first-with-fixed-key"))));
    long before = count();
    Throwable failure = awaitFailure(colliding.create(profileA, settings(onFlowA().put("name", "half-written"))));
    assertThat(Rows.isSqlState(failure, Rows.UNIQUE_VIOLATION)).as("failed on the key insert: %s", failure).isTrue();
    assertThat(count()).isEqualTo(before);
    assertThat(await(deployments.list(profileA))).extracting(Deployment::name).doesNotContain("half-written");
  }

  private static long count() {
    return await(pool.preparedQuery("SELECT count(*) AS n FROM deployments WHERE profile_id = $1")
        .execute(Tuple.of(profileA))).iterator().next().getLong("n");
  }
}
