package io.flowgate.deployments;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.flow.FlowLimits;
import io.flowgate.flow.NodeServices;
import io.flowgate.flow.NodeTypes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The key check refuses malformed keys before any lookup: with PostgreSQL unreachable, a malformed or bad-checksum key
 * is still 401 invalid_api_key, while a well-formed one (which does need a lookup) is 503 service_unavailable.
 */
class CatalogWithoutDatabaseTest {
  private Vertx vertx;
  private Pool deadPool;
  private Catalog catalog;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    deadPool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(1))
        .connectingTo(new PgConnectOptions().setHost("127.0.0.1").setPort(closedPort).setUser("nobody")
            .setDatabase("none"))
        .using(vertx)
        .build();
    NodeTypes types = NodeTypes.load(new NodeServices(vertx, vertx.createHttpClient(), FlowLimits.defaults()));
    catalog = new Catalog(new ApiKeyRepository(deadPool), new DeploymentRepository(deadPool),
        new FlowRepository(deadPool), types, Duration.ofSeconds(60));
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static ErrorCode codeOf(Future<?> f) throws Exception {
    try {
      f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure");
    } catch (java.util.concurrent.ExecutionException e) {
      return ((GatewayException) e.getCause()).code();
    }
  }

  @Test
  void malformed_and_bad_checksum_keys_are_refused_without_a_lookup() throws Exception {
    String good = ApiKeys.generate();
    String badChecksum = good.substring(0, good.length() - 2) + (good.endsWith("AA") ? "BB" : "AA");
    for (String key : new String[] {"sk-nope", "hello", badChecksum, "Bearer " + good}) {
      assertThat(codeOf(catalog.authorize(key, UUID.randomUUID()))).as(key).isEqualTo(ErrorCode.INVALID_API_KEY);
    }
    assertThat(codeOf(catalog.authorize(null, UUID.randomUUID()))).isEqualTo(ErrorCode.MISSING_API_KEY);
  }

  @Test
  void a_well_formed_key_needs_the_database_and_its_outage_is_503_never_401() throws Exception {
    assertThat(codeOf(catalog.authorize(ApiKeys.generate(), UUID.randomUUID())))
        .isEqualTo(ErrorCode.SERVICE_UNAVAILABLE);
  }
}
