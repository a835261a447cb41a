package io.flowgate.deployments;

import static io.flowgate.deployments.DbFixture.await;
import static io.flowgate.deployments.DbFixture.awaitGatewayFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.ErrorCode;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.HexFormat;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class ApiKeyRepositoryTest {
  private static Pool pool;
  private static ApiKeyRepository keys;
  private static UUID profileA;
  private static UUID profileB;
  private static Deployment deploymentA;

  @BeforeAll
  static void startDatabase(Vertx vertx) {
    pool = DbFixture.pool(vertx, ApiKeyRepositoryTest.class);
    keys = new ApiKeyRepository(pool);
    ProfileRepository profiles = new ProfileRepository(pool);
    profileA = await(profiles.create("a")).profile().id();
    profileB = await(profiles.create("b")).profile().id();
    StoredFlow flow = await(new FlowRepository(pool).create(profileA, SampleFlows.greeting("f")));
    deploymentA = await(new DeploymentRepository(pool).create(profileA, DeploymentSettings.parse(
        new JsonObject().put("flow_id", flow.id().toString()), false))).deployment();
  }

  @AfterAll
  static void closePool() {
    await(pool.close());
  }

  @Test
  void a_deployment_key_is_stored_as_hash_and_mask_only() {
    NewApiKey created = await(keys.createForDeployment(profileA, deploymentA.id(), "ci"));
    String plain = created.plainKey();
    assertThat(created.key().masked()).isEqualTo(plain.substring(0, 8) + "********" + plain.substring(36));
    assertThat(created.key().name()).isEqualTo("ci");
    for (Row row : await(pool.query("SELECT row_to_json(k)::text AS j FROM api_keys k").execute())) {
      assertThat(row.getString("j")).doesNotContain(plain).doesNotContain(plain.substring(3));
    }
    Row row = await(pool.query("SELECT encode(key_hash, 'hex') AS h FROM api_keys WHERE id = '" + created.key().id()
        + "'").execute()).iterator().next();
    assertThat(row.getString("h")).isEqualTo(HexFormat.of().formatHex(ApiKeys.hash(plain)));
    assertThat(created.key().toJson().encode()).doesNotContain(plain);
  }

  @Test
  void finds_a_key_by_its_hash() {
    NewApiKey created = await(keys.createProfileWide(profileA, null));
    ApiKey found = await(keys.findByHash(ApiKeys.hash(created.plainKey())));
    assertThat(found.id()).isEqualTo(created.key().id());
    assertThat(found.deploymentId()).isNull();
    assertThat(found.mayCall(deploymentA)).isTrue();
    assertThat(found.usableAt(Instant.now())).isTrue();
    assertThat(await(keys.findByHash(ApiKeys.hash(ApiKeys.generate())))).isNull();
  }

  @Test
  void deactivates_activates_and_deletes_a_key() {
    NewApiKey created = await(keys.createProfileWide(profileA, "toggle"));
    UUID id = created.key().id();
    assertThat(await(keys.deactivate(profileA, id)).active()).isFalse();
    assertThat(await(keys.findByHash(ApiKeys.hash(created.plainKey()))).active()).isFalse();
    assertThat(await(keys.activate(profileA, id)).active()).isTrue();
    await(keys.delete(profileA, id));
    assertThat(await(keys.findByHash(ApiKeys.hash(created.plainKey())))).isNull();
    assertThat(awaitGatewayFailure(keys.delete(profileA, id)).code()).isEqualTo(ErrorCode.NOT_FOUND);
  }

  @Test
  void another_profile_can_neither_see_nor_change_the_key() {
    NewApiKey created = await(keys.createProfileWide(profileA, "mine"));
    UUID id = created.key().id();
    assertThat(await(keys.list(profileB))).extracting(ApiKey::id).doesNotContain(id);
    assertThat(await(keys.get(profileB, id))).isNull();
    assertThat(awaitGatewayFailure(keys.deactivate(profileB, id)).code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(awaitGatewayFailure(keys.activate(profileB, id)).code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(awaitGatewayFailure(keys.delete(profileB, id)).code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(awaitGatewayFailure(keys.createForDeployment(profileB, deploymentA.id(), null)).code())
        .isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(await(keys.get(profileA, id)).active()).isTrue();
  }

  @Test
  void lists_the_keys_of_one_deployment() {
    NewApiKey created = await(keys.createForDeployment(profileA, deploymentA.id(), "listed"));
    assertThat(await(keys.listForDeployment(profileA, deploymentA.id()))).extracting(ApiKey::id)
        .contains(created.key().id());
    assertThat(await(keys.listForDeployment(profileB, deploymentA.id()))).isEmpty();
  }
}
