package io.flowgate;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.config.ConfigLoader;
import io.flowgate.config.GatewayConfig;
import io.flowgate.deployments.DeclarationException;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp.Reply;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A start runs its steps partly at once (declarations read while the schema is migrated; the change listener, the
 * declarations' writes and the run worker side by side): when it completes, every one of them is done, and a failing
 * one fails the start and leaves nothing running.
 */
class GatewayStartTest {
  private static final String DEMO_DEPLOYMENT = "af86a8a6-40f2-4b92-9f83-c9b3bafb2ccb";
  private static final String DEMO_KEY = "sk-fGNTDKVjAOQ-Sag6rkygnZxhpnWerjKEpbS0jg";
  private static final String DEMO_API_DEPLOYMENT = "3c9a1f2e-8b7d-4e6a-9c5b-1d2e3f4a5b6c";
  private static final String DEMO_API_KEY = "sk-Fm66pEdDG0F1tbi7G_nH3pWAK4-WpbpsdPxxdg";

  @Test
  void once_started_it_is_ready_and_answers_the_declared_demo_on_both_paths_at_once() {
    GatewayUnderTest node = GatewayUnderTest.start(GatewayUnderTest.Backing.fresh(GatewayStartTest.class), 1,
        Map.of("FLOWGATE_DECLARATIONS_DIR", GatewayUnderTest.repoDeclarations().toString()));
    try {
      assertThat(node.http().send("GET", "/health/ready", null).status()).isEqualTo(200);
      // The first request after start: the declarations are written, the key cache and the run worker are up.
      Reply server = node.http().trigger(DEMO_DEPLOYMENT, DEMO_KEY, "{\"input_data\": {\"name\": \"Ada\"}}");
      assertThat(server.status()).as(server.body()).isEqualTo(200);
      assertThat(server.data().getJsonObject("output_data").getString("greeting")).isEqualTo("Hello, Ada!");
      // The api deployment runs through the Redis queue and this node's worker.
      Reply queued = node.http().trigger(DEMO_API_DEPLOYMENT, DEMO_API_KEY, "{\"input_data\": {\"name\": \"Bo\"}}");
      assertThat(queued.status()).as(queued.body()).isEqualTo(200);
      assertThat(queued.data().getJsonObject("output_data").getString("greeting")).isEqualTo("Hello, Bo!");
    } finally {
      node.close();
    }
  }

  @Test
  void a_bad_declaration_fails_the_start_and_stops_what_had_started(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("broken.yaml"), "flows: [ {id: \n  - :::");
    GatewayUnderTest.Backing backing = GatewayUnderTest.Backing.fresh(GatewayStartTest.class);
    Map<String, String> env = new HashMap<>();
    env.put("FLOWGATE_HTTP_HOST", "127.0.0.1");
    env.put("FLOWGATE_HTTP_PORT", "0");
    env.put("FLOWGATE_HTTP_EVENT_LOOPS", "1");
    env.put("FLOWGATE_HTTP_SHUTDOWN_GRACE_SECONDS", "1");
    env.put("FLOWGATE_PG_URL", backing.pgUrl());
    env.put("FLOWGATE_REDIS_URL", backing.redisUrl());
    env.put("FLOWGATE_REDIS_KEY_PREFIX", backing.redisPrefix());
    env.put("FLOWGATE_DECLARATIONS_DIR", dir.toString());
    env.put("FLOWGATE_LOGGING_JSON", "false");
    GatewayConfig config = ConfigLoader.load(null, env);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = Main.newVertx(registry);
    try {
      Throwable failure;
      try {
        Gateway.start(vertx, config, registry).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        throw new AssertionError("the start should have failed");
      } catch (ExecutionException e) {
        failure = e.getCause();
      }
      assertThat(failure).isInstanceOf(DeclarationException.class);
      assertThat(failure.getMessage()).contains("broken.yaml");
      // The run worker and the webhook verticles started beside the declarations were undeployed again; no HTTP
      // verticle was ever deployed.
      assertThat(vertx.deploymentIDs()).isEmpty();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }
}
