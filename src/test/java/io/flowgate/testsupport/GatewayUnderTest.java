package io.flowgate.testsupport;

import io.flowgate.Gateway;
import io.flowgate.Main;
import io.flowgate.config.ConfigLoader;
import io.flowgate.config.GatewayConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A whole gateway node for integration tests: real Redis and PostgreSQL ({@link TestBackends}; its own database and
 * key prefix per test class, or shared ones when a test builds a cluster), HTTP on a free port, the admin token set.
 * Blocking: start and close from the JUnit thread.
 */
public final class GatewayUnderTest implements AutoCloseable {
  public static final String ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

  private final Vertx vertx;
  private final Gateway gateway;
  private final GatewayConfig config;
  private final TestHttp http;

  private GatewayUnderTest(Vertx vertx, Gateway gateway, GatewayConfig config) {
    this.vertx = vertx;
    this.gateway = gateway;
    this.config = config;
    this.http = new TestHttp("http://127.0.0.1:" + gateway.port());
  }

  /** A node for {@code testClass} in a fresh database and key prefix, with {@code eventLoops} HTTP verticles. */
  public static GatewayUnderTest start(Class<?> testClass, int eventLoops) {
    return start(Backing.fresh(testClass), eventLoops, Map.of());
  }

  /** A node on the given backing stores (several nodes on one backing make a cluster), env overrides on top. */
  public static GatewayUnderTest start(Backing backing, int eventLoops, Map<String, String> extraEnv) {
    Map<String, String> env = new HashMap<>();
    env.put("FLOWGATE_HTTP_HOST", "127.0.0.1");
    env.put("FLOWGATE_HTTP_PORT", "0");
    env.put("FLOWGATE_HTTP_EVENT_LOOPS", Integer.toString(eventLoops));
    env.put("FLOWGATE_HTTP_SHUTDOWN_GRACE_SECONDS", "1");
    env.put("FLOWGATE_ADMIN_TOKEN", ADMIN_TOKEN);
    env.put("FLOWGATE_PG_URL", backing.pgUrl());
    env.put("FLOWGATE_REDIS_URL", backing.redisUrl());
    env.put("FLOWGATE_REDIS_KEY_PREFIX", backing.redisPrefix());
    env.put("FLOWGATE_DECLARATIONS_DIR", "target/no-declarations");
    env.put("FLOWGATE_LOGGING_JSON", "false");
    env.putAll(extraEnv);
    try {
      GatewayConfig config = ConfigLoader.load(null, env);
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      Vertx vertx = Main.newVertx(registry);
      Gateway gateway = Gateway.start(vertx, config, registry).toCompletionStage().toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
      return new GatewayUnderTest(vertx, gateway, config);
    } catch (Exception e) {
      throw new IllegalStateException("gateway under test failed to start: " + e, e);
    }
  }

  /** The stores a node runs on. */
  public record Backing(String pgUrl, String redisUrl, String redisPrefix) {
    public static Backing fresh(Class<?> testClass) {
      String name = testClass.getSimpleName();
      return new Backing(TestBackends.newDatabase(name), TestBackends.redisUrl(), TestBackends.newRedisPrefix(name));
    }
  }

  public int port() {
    return gateway.port();
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + port();
  }

  public TestHttp http() {
    return http;
  }

  public Gateway gateway() {
    return gateway;
  }

  public Vertx vertx() {
    return vertx;
  }

  public GatewayConfig config() {
    return config;
  }

  /** The declarations directory of the repository (the demo), for tests that apply it. */
  public static Path repoDeclarations() {
    return Path.of("conf/declarations").toAbsolutePath();
  }

  /** Closes each gateway that was started (nulls are skipped), last first. */
  public static void closeAll(GatewayUnderTest... gateways) {
    for (int i = gateways.length - 1; i >= 0; i--) {
      if (gateways[i] != null) {
        gateways[i].close();
      }
    }
  }

  @Override
  public void close() {
    try {
      gateway.close().eventually(() -> vertx.close()).toCompletionStage().toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("gateway under test failed to stop: " + e, e);
    }
  }
}
