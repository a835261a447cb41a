package io.flowgate.deployments;

import static io.flowgate.deployments.DbFixture.await;
import static io.flowgate.deployments.DbFixture.awaitGatewayFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class FlowRepositoryTest {
  private static Pool pool;
  private static FlowRepository flows;
  private static DeploymentRepository deployments;
  private static UUID profileA;
  private static UUID profileB;

  @BeforeAll
  static void startDatabase(Vertx vertx) {
    pool = DbFixture.pool(vertx, FlowRepositoryTest.class);
    flows = new FlowRepository(pool);
    deployments = new DeploymentRepository(pool);
    ProfileRepository profiles = new ProfileRepository(pool);
    profileA = await(profiles.create("a")).profile().id();
    profileB = await(profiles.create("b")).profile().id();
  }

  @AfterAll
  static void closePool() {
    await(pool.close());
  }

  @Test
  void creates_a_flow_at_version_1_and_reads_it_back() {
    StoredFlow created = await(flows.create(profileA, SampleFlows.greeting("first")));
    assertThat(created.version()).isEqualTo(1);
    assertThat(created.name()).isEqualTo("first");
    StoredFlow read = await(flows.get(profileA, created.id()));
    assertThat(read.definition()).isEqualTo(SampleFlows.greeting("first"));
    JsonObject json = read.toJson();
    assertThat(json.fieldNames()).contains("id", "name", "version", "nodes", "edges", "created_at", "updated_at");
    assertThat(await(flows.list(profileA))).extracting(StoredFlow::id).contains(created.id());
  }

  @Test
  void an_update_adds_a_version_and_keeps_the_old_one() {
    StoredFlow created = await(flows.create(profileA, SampleFlows.greeting("versioned")));
    StoredFlow updated = await(flows.update(profileA, created.id(), SampleFlows.greeting("versioned-2")));
    assertThat(updated.version()).isEqualTo(2);
    assertThat(updated.name()).isEqualTo("versioned-2");
    assertThat(await(flows.latestVersion(profileA, created.id()))).isEqualTo(2);
    assertThat(await(flows.findVersion(created.id(), 1)).getString("name")).isEqualTo("versioned");
    assertThat(await(flows.findVersion(created.id(), 2)).getString("name")).isEqualTo("versioned-2");
    assertThat(await(flows.findVersion(created.id(), 3))).isNull();
  }

  @Test
  void another_profile_sees_nothing_of_the_flow() {
    StoredFlow created = await(flows.create(profileA, SampleFlows.greeting("private")));
    assertThat(await(flows.get(profileB, created.id()))).isNull();
    assertThat(await(flows.list(profileB))).extracting(StoredFlow::id).doesNotContain(created.id());
    assertThat(await(flows.latestVersion(profileB, created.id()))).isNull();
    assertThat(awaitGatewayFailure(flows.update(profileB, created.id(), SampleFlows.greeting("x"))).code())
        .isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(awaitGatewayFailure(flows.delete(profileB, created.id())).code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(await(flows.get(profileA, created.id()))).isNotNull();
  }

  @Test
  void deletes_an_unused_flow_with_all_its_versions() {
    StoredFlow created = await(flows.create(profileA, SampleFlows.greeting("doomed")));
    await(flows.update(profileA, created.id(), SampleFlows.greeting("doomed")));
    await(flows.delete(profileA, created.id()));
    assertThat(await(flows.get(profileA, created.id()))).isNull();
    assertThat(await(flows.findVersion(created.id(), 1))).isNull();
    assertThat(awaitGatewayFailure(flows.delete(profileA, created.id())).code()).isEqualTo(ErrorCode.NOT_FOUND);
  }

  @Test
  void refuses_to_delete_a_flow_in_use_naming_the_deployments() {
    StoredFlow created = await(flows.create(profileA, SampleFlows.greeting("in-use")));
    NewDeployment d = await(deployments.create(profileA, DeploymentSettings.parse(new JsonObject()
        .put("flow_id", created.id().toString()).put("name", "user-of-flow"), false)));
    GatewayException e = awaitGatewayFailure(flows.delete(profileA, created.id()));
    assertThat(e.code()).isEqualTo(ErrorCode.CONFLICT);
    assertThat(e.detail()).contains("user-of-flow").contains(d.deployment().id().toString());
    await(deployments.delete(profileA, d.deployment().id()));
    await(flows.delete(profileA, created.id()));
  }
}
