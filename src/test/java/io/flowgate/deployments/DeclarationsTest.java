package io.flowgate.deployments;

import static io.flowgate.deployments.DbFixture.await;
import static io.flowgate.deployments.DbFixture.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.flow.NodeTypes;
import io.flowgate.inference.InferenceServerRepository;
import io.flowgate.inference.InferenceServerSpec;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class DeclarationsTest {
  private static final Path DEMO_DIR = Path.of("conf", "declarations");
  private static final UUID DEMO_FLOW = UUID.fromString("7d2f6c1e-3b8a-4c5e-9f10-2a4b6c8d0e1f");
  private static final UUID DEMO_DEPLOYMENT = UUID.fromString("af86a8a6-40f2-4b92-9f83-c9b3bafb2ccb");
  private static final UUID DEMO_API_DEPLOYMENT = UUID.fromString("3c9a1f2e-8b7d-4e6a-9c5b-1d2e3f4a5b6c");
  private static final String DEMO_KEY = "sk-fGNTDKVjAOQ-Sag6rkygnZxhpnWerjKEpbS0jg";
  private static final String DEMO_API_KEY = "sk-Fm66pEdDG0F1tbi7G_nH3pWAK4-WpbpsdPxxdg";

  private static Vertx vertx;
  private static Pool pool;
  private static NodeTypes nodeTypes;
  private static FlowRepository flows;
  private static DeploymentRepository deployments;
  private static ApiKeyRepository keys;

  @BeforeAll
  static void startDatabase(Vertx injected) {
    vertx = injected;
    pool = DbFixture.pool(vertx, DeclarationsTest.class);
    nodeTypes = DbFixture.nodeTypes(vertx);
    flows = new FlowRepository(pool);
    deployments = new DeploymentRepository(pool);
    keys = new ApiKeyRepository(pool);
  }

  @AfterAll
  static void closePool() {
    await(pool.close());
  }

  @Test
  void applies_the_shipped_demo_twice_with_the_same_result() {
    await(Declarations.apply(pool, DEMO_DIR, nodeTypes, Map.of()));
    Deployment first = await(deployments.findById(DEMO_DEPLOYMENT));
    await(Declarations.apply(pool, DEMO_DIR, nodeTypes, Map.of()));
    Deployment second = await(deployments.findById(DEMO_DEPLOYMENT));

    assertThat(second).isEqualTo(first);
    assertThat(second.profileId()).isEqualTo(Profile.DEFAULT_ID);
    assertThat(second.name()).isEqualTo("demo");
    assertThat(second.executionMode()).isEqualTo(ExecutionMode.SYNC);
    assertThat(second.deploymentType()).isEqualTo(DeploymentType.SERVER);
    assertThat(second.flowId()).isEqualTo(DEMO_FLOW);
    assertThat(second.flowVersion()).isEqualTo(1);
    assertThat(await(deployments.findById(DEMO_API_DEPLOYMENT)).deploymentType()).isEqualTo(DeploymentType.API);
    assertThat(await(flows.get(Profile.DEFAULT_ID, DEMO_FLOW)).name()).isEqualTo("demo-greeting");

    ApiKey demoKey = await(keys.findByHash(ApiKeys.hash(DEMO_KEY)));
    assertThat(demoKey.deploymentId()).isEqualTo(DEMO_DEPLOYMENT);
    assertThat(demoKey.masked()).isEqualTo(ApiKeys.mask(DEMO_KEY));
    assertThat(await(keys.findByHash(ApiKeys.hash(DEMO_API_KEY))).deploymentId()).isEqualTo(DEMO_API_DEPLOYMENT);
    assertThat(ApiKeys.wellFormed(DEMO_KEY)).isTrue();
    assertThat(ApiKeys.wellFormed(DEMO_API_KEY)).isTrue();
  }

  @Test
  void two_applies_at_once_both_succeed_and_write_one_version(@TempDir Path dir) throws IOException {
    UUID flowId = UUID.randomUUID();
    UUID deploymentId = UUID.randomUUID();
    Files.writeString(dir.resolve("concurrent.yaml"), file(flowId, "concurrent", deploymentId, UUID.randomUUID(),
        hashLine(ApiKeys.generate())));
    await(Future.all(Declarations.apply(pool, dir, nodeTypes, Map.of()),
        Declarations.apply(pool, dir, nodeTypes, Map.of())));
    assertThat(await(flows.latestVersion(Profile.DEFAULT_ID, flowId))).isEqualTo(1);
    assertThat(await(deployments.findById(deploymentId)).flowVersion()).isEqualTo(1);
  }

  @Test
  void a_changed_flow_becomes_a_new_version_and_the_deployment_is_repinned(@TempDir Path dir) throws IOException {
    UUID flowId = UUID.randomUUID();
    UUID deploymentId = UUID.randomUUID();
    UUID keyId = UUID.randomUUID();
    String hash = hashLine(ApiKeys.generate());
    Path file = dir.resolve("changing.yml");
    Files.writeString(file, file(flowId, "before", deploymentId, keyId, hash));
    await(Declarations.apply(pool, dir, nodeTypes, Map.of()));
    Files.writeString(file, file(flowId, "after", deploymentId, keyId, hash));
    await(Declarations.apply(pool, dir, nodeTypes, Map.of()));

    assertThat(await(flows.latestVersion(Profile.DEFAULT_ID, flowId))).isEqualTo(2);
    assertThat(await(flows.findVersion(flowId, 2)).getString("name")).isEqualTo("after");
    assertThat(await(deployments.findById(deploymentId)).flowVersion()).isEqualTo(2);
  }

  @Test
  void reads_a_key_from_an_environment_variable_and_skips_a_missing_one(@TempDir Path dir) throws IOException {
    String plain = ApiKeys.generate();
    UUID deploymentId = UUID.randomUUID();
    UUID keyFromEnv = UUID.randomUUID();
    UUID keyMissing = UUID.randomUUID();
    String yaml = file(UUID.randomUUID(), "env-keys", deploymentId, keyFromEnv, "env: DEMO_KEY_SET")
        + "      - id: " + keyMissing + "\n        env: DEMO_KEY_UNSET\n";
    Files.writeString(dir.resolve("env.yaml"), yaml);
    await(Declarations.apply(pool, dir, nodeTypes, Map.of("DEMO_KEY_SET", plain)));

    ApiKey key = await(keys.findByHash(ApiKeys.hash(plain)));
    assertThat(key.id()).isEqualTo(keyFromEnv);
    assertThat(key.deploymentId()).isEqualTo(deploymentId);
    assertThat(key.masked()).isEqualTo(ApiKeys.mask(plain));
    assertThat(await(keys.get(Profile.DEFAULT_ID, keyMissing))).isNull();
  }

  @Test
  void an_operators_deactivation_survives_a_reapply(@TempDir Path dir) throws IOException {
    String plain = ApiKeys.generate();
    UUID keyId = UUID.randomUUID();
    Files.writeString(dir.resolve("keep.yaml"), file(UUID.randomUUID(), "keep", UUID.randomUUID(), keyId,
        hashLine(plain)));
    await(Declarations.apply(pool, dir, nodeTypes, Map.of()));
    await(keys.deactivate(Profile.DEFAULT_ID, keyId));
    await(Declarations.apply(pool, dir, nodeTypes, Map.of()));
    assertThat(await(keys.findByHash(ApiKeys.hash(plain))).active()).isFalse();
  }

  @Test
  void a_deployment_may_name_a_flow_declared_in_a_later_file(@TempDir Path dir) throws IOException {
    UUID flowId = UUID.randomUUID();
    UUID deploymentId = UUID.randomUUID();
    String both = file(flowId, "split", deploymentId, UUID.randomUUID(),
        hashLine(ApiKeys.generate()));
    int cut = both.indexOf("deployments:");
    Files.writeString(dir.resolve("a-deployments.yaml"), both.substring(cut));
    Files.writeString(dir.resolve("z-flows.yaml"), both.substring(0, cut));
    await(Declarations.apply(pool, dir, nodeTypes, Map.of()));
    assertThat(await(deployments.findById(deploymentId)).flowId()).isEqualTo(flowId);
  }

  @Test
  void applies_when_called_on_an_event_loop(@TempDir Path dir) throws IOException {
    UUID deploymentId = UUID.randomUUID();
    Files.writeString(dir.resolve("loop.yaml"), file(UUID.randomUUID(), "loop", deploymentId, UUID.randomUUID(),
        hashLine(ApiKeys.generate())));
    Promise<Void> done = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> Declarations.apply(pool, dir, nodeTypes, Map.of())
        .onComplete(done));
    await(done.future());
    assertThat(await(deployments.findById(deploymentId))).isNotNull();
  }

  @Test
  void load_reads_and_checks_the_files_without_writing_and_write_applies_them(@TempDir Path dir) throws IOException {
    UUID flowId = UUID.randomUUID();
    UUID deploymentId = UUID.randomUUID();
    Files.writeString(dir.resolve("early.yaml"), file(flowId, "early", deploymentId, UUID.randomUUID(),
        hashLine(ApiKeys.generate())));
    Declarations.Loaded loaded = await(Declarations.load(vertx, dir, nodeTypes));
    assertThat(await(deployments.findById(deploymentId))).isNull();

    await(loaded.write(pool));
    assertThat(await(deployments.findById(deploymentId)).flowId()).isEqualTo(flowId);
    await(loaded.write(pool));
    assertThat(await(flows.latestVersion(Profile.DEFAULT_ID, flowId))).isEqualTo(1);
  }

  @Test
  void load_fails_on_an_invalid_file_before_any_database_work(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("bad.yaml"), file(UUID.randomUUID(), "bad", UUID.randomUUID(), UUID.randomUUID(),
        "env: X").replace("type: transform", "type: teleport"));
    Throwable failure = awaitFailure(Declarations.load(vertx, dir, nodeTypes));
    assertThat(failure).isInstanceOf(DeclarationException.class);
    assertThat(failure.getMessage()).contains("bad.yaml").contains("teleport");
  }

  @Test
  void a_missing_directory_applies_nothing() {
    await(Declarations.apply(pool, Path.of("does-not-exist-" + UUID.randomUUID()), nodeTypes, Map.of()));
  }

  @Test
  void a_file_that_is_not_yaml_fails_naming_the_file(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("broken.yaml"), "flows: [ {id: \n  - :::");
    Throwable failure = awaitFailure(Declarations.apply(pool, dir, nodeTypes, Map.of()));
    assertThat(failure).isInstanceOf(DeclarationException.class);
    assertThat(failure.getMessage()).contains("broken.yaml");
  }

  @Test
  void an_invalid_flow_fails_naming_the_file_and_the_node_and_writes_nothing(@TempDir Path dir) throws IOException {
    UUID goodFlow = UUID.randomUUID();
    Files.writeString(dir.resolve("a-good.yaml"), file(goodFlow, "good", UUID.randomUUID(), UUID.randomUUID(),
        hashLine(ApiKeys.generate())));
    Files.writeString(dir.resolve("b-bad.yaml"), file(UUID.randomUUID(), "bad", UUID.randomUUID(),
        UUID.randomUUID(), "env: X").replace("type: transform", "type: teleport"));
    Throwable failure = awaitFailure(Declarations.apply(pool, dir, nodeTypes, Map.of()));
    assertThat(failure.getMessage()).contains("b-bad.yaml").contains("greet").contains("teleport");
    assertThat(await(flows.get(Profile.DEFAULT_ID, goodFlow))).isNull();
  }

  @Test
  void a_bad_setting_fails_naming_the_file_and_the_field(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("mode.json"), "{\"deployments\": [{\"id\": \"" + UUID.randomUUID()
        + "\", \"flow_id\": \"" + DEMO_FLOW + "\", \"execution_mode\": \"turbo\"}]}");
    Throwable failure = awaitFailure(Declarations.apply(pool, dir, nodeTypes, Map.of()));
    assertThat(failure.getMessage()).contains("mode.json").contains("execution_mode").contains("sync, async, fast");
  }

  @Test
  void a_deployment_of_an_undeclared_flow_fails_naming_the_file(@TempDir Path dir) throws IOException {
    UUID unknown = UUID.randomUUID();
    Files.writeString(dir.resolve("orphan.yaml"), "deployments:\n  - id: " + UUID.randomUUID() + "\n    flow_id: "
        + unknown + "\n");
    Throwable failure = awaitFailure(Declarations.apply(pool, dir, nodeTypes, Map.of()));
    assertThat(failure).isInstanceOf(DeclarationException.class);
    assertThat(failure.getMessage()).contains("orphan.yaml").contains(unknown.toString());
  }

  @Test
  void a_hash_already_used_by_another_key_fails_naming_the_file(@TempDir Path dir) throws IOException {
    String taken = hashLine(DEMO_KEY);
    await(Declarations.apply(pool, DEMO_DIR, nodeTypes, Map.of()));
    Files.writeString(dir.resolve("clash.yaml"), file(UUID.randomUUID(), "clash", UUID.randomUUID(),
        UUID.randomUUID(), taken));
    Throwable failure = awaitFailure(Declarations.apply(pool, dir, nodeTypes, Map.of()));
    assertThat(failure.getMessage()).contains("clash.yaml").contains("hash");
    assertThat(await(pool.preparedQuery("SELECT count(*) AS n FROM flows WHERE name = $1")
        .execute(Tuple.of("clash"))).iterator().next().getLong("n")).isZero();
  }

  @Test
  void a_declared_inference_node_may_call_only_a_server_of_the_default_profile(@TempDir Path dir) throws IOException {
    UUID other = UUID.randomUUID();
    await(pool.preparedQuery("INSERT INTO profiles (id, name) VALUES ($1, $2)")
        .execute(Tuple.of(other, "declarations-other-" + other)));
    InferenceServerRepository servers = new InferenceServerRepository(pool);
    JsonObject server = new JsonObject().put("name", "iris").put("protocol", "passthrough")
        .put("replicas", new JsonArray().add("http://127.0.0.1:9"));
    UUID theirs = await(servers.create(InferenceServerSpec.parse(UUID.randomUUID(), other, server))).id();
    UUID mine = await(servers.create(InferenceServerSpec.parse(UUID.randomUUID(), Profile.DEFAULT_ID, server))).id();

    UUID refused = UUID.randomUUID();
    Files.writeString(dir.resolve("theirs.yaml"), inferenceFlow(refused, theirs));
    Throwable failure = awaitFailure(Declarations.apply(pool, dir, nodeTypes, Map.of()));
    assertThat(failure).isInstanceOf(DeclarationException.class);
    assertThat(failure.getMessage()).contains("theirs.yaml").contains("node 'score'").contains(theirs.toString())
        .contains("another profile");
    assertThat(await(flows.get(Profile.DEFAULT_ID, refused))).isNull();

    // The default profile's own server, and (with a warning) one that does not exist yet, are accepted.
    Files.delete(dir.resolve("theirs.yaml"));
    UUID owned = UUID.randomUUID();
    UUID dangling = UUID.randomUUID();
    Files.writeString(dir.resolve("mine.yaml"), inferenceFlow(owned, mine));
    Files.writeString(dir.resolve("missing.yaml"), inferenceFlow(dangling, UUID.randomUUID()));
    await(Declarations.apply(pool, dir, nodeTypes, Map.of()));
    assertThat(await(flows.get(Profile.DEFAULT_ID, owned))).isNotNull();
    assertThat(await(flows.get(Profile.DEFAULT_ID, dangling))).isNotNull();
  }

  private static String inferenceFlow(UUID flowId, UUID serverId) {
    return "flows:\n"
        + "  - id: " + flowId + "\n"
        + "    name: scores-" + flowId.toString().substring(0, 8) + "\n"
        + "    nodes:\n"
        + "      - {id: input, type: api_input}\n"
        + "      - {id: score, type: inference, config: {inference_server_id: '" + serverId + "'}}\n"
        + "      - {id: output, type: output}\n"
        + "    edges:\n"
        + "      - {from: input, to: score}\n"
        + "      - {from: score, to: output}\n";
  }

  /** One flow, one deployment of it, one key given by {@code keySource} (a YAML line: hash or env). */
  private static String file(UUID flowId, String flowName, UUID deploymentId, UUID keyId, String keySource) {
    return "flows:\n"
        + "  - id: " + flowId + "\n"
        + "    name: " + flowName + "\n"
        + "    nodes:\n"
        + "      - {id: input, type: api_input, config: {test_data: {name: Ada}}}\n"
        + "      - {id: greet, type: transform, config: {expression: '$'}}\n"
        + "      - {id: output, type: output}\n"
        + "    edges:\n"
        + "      - {from: input, to: greet}\n"
        + "      - {from: greet, to: output}\n"
        + "deployments:\n"
        + "  - id: " + deploymentId + "\n"
        + "    flow_id: " + flowId + "\n"
        + "    deployment_type: server\n"
        + "    api_keys:\n"
        + "      - id: " + keyId + "\n"
        + "        " + keySource + "\n";
  }

  /** A declaration's {@code hash:} line for the key {@code plain}. */
  private static String hashLine(String plain) {
    return "hash: \"sha256:" + HexFormat.of().formatHex(ApiKeys.hash(plain)) + "\"";
  }
}
