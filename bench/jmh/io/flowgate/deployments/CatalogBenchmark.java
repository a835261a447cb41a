package io.flowgate.deployments;

import io.flowgate.backends.EmbeddedBackends;
import io.flowgate.backends.Migrations;
import io.flowgate.flow.DemoFlow;
import io.flowgate.flow.FlowLimits;
import io.flowgate.flow.NodeServices;
import io.flowgate.flow.NodeTypes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The trigger's lookups, served from {@link Catalog}'s memory as after warm-up: the API key check (well-formed,
 * SHA-256, cache lookup, constant-time compare, active, last-used noted), the deployment lookup, and both with the
 * compiled plan ({@link Catalog#authorize}, what {@code TriggerHandler} calls). The catalog is the real one over a
 * real PostgreSQL (the embedded server, in {@code target/jmh-data-*}, deleted afterwards) holding the demo
 * declarations of {@code conf/declarations/demo.yaml}; its first reads fill the cache in the set-up. JMH's thread,
 * no event loop: every Future here is already complete.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CatalogBenchmark {
  /** The published demo key and deployment (sync, server) of demo.yaml. */
  static final String KEY = "sk-fGNTDKVjAOQ-Sag6rkygnZxhpnWerjKEpbS0jg";
  static final UUID DEPLOYMENT = UUID.fromString("af86a8a6-40f2-4b92-9f83-c9b3bafb2ccb");

  private Path dataDir;
  private EmbeddedBackends backends;
  private Vertx vertx;
  private Pool pool;
  private Catalog catalog;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    dataDir = Files.createDirectories(DemoFlow.root().resolve("target"))
        .resolve("jmh-data-" + ProcessHandle.current().pid());
    backends = EmbeddedBackends.start(dataDir, true, false);
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(backends.pgUrl()).with(new PoolOptions().setMaxSize(2)).using(vertx).build();
    NodeTypes types = NodeTypes.load(new NodeServices(vertx, vertx.createHttpClient(), FlowLimits.defaults()));
    Migrations.migrate(pool).await(60, TimeUnit.SECONDS);
    Declarations.apply(pool, DemoFlow.root().resolve("conf/declarations"), types).await(60, TimeUnit.SECONDS);
    ApiKeyRepository keys = new ApiKeyRepository(pool);
    // As the gateway wires it: last_used_at noted in memory (flushes are not started: no writes while measuring).
    catalog = new Catalog(keys, new DeploymentRepository(pool), new FlowRepository(pool), types,
        Duration.ofHours(1), new LastUsedRecorder(vertx, keys));
    Catalog.Target warm = catalog.authorize(KEY, DEPLOYMENT).await(60, TimeUnit.SECONDS);
    if (warm.plan() == null) {
      throw new IllegalStateException("the demo deployment has no plan");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    try {
      pool.close().await(10, TimeUnit.SECONDS);
      vertx.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // closing anyway below
    } finally {
      backends.close();
      try (Stream<Path> files = Files.walk(dataDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static <T> T now(Future<T> f) {
    if (!f.succeeded()) {
      throw new IllegalStateException("expected a completed lookup, got " + f);
    }
    return f.result();
  }

  /** SHA-256 of the key alone (the part of the key check that does not depend on the cache). */
  @Benchmark
  public byte[] keyHash() {
    return ApiKeys.hash(KEY);
  }

  /** The key check as the trigger does it. */
  @Benchmark
  public ApiKey keyCheck() {
    return now(catalog.authenticate(KEY));
  }

  /** The deployment lookup by id. */
  @Benchmark
  public Deployment deploymentLookup() {
    return now(catalog.deployment(DEPLOYMENT));
  }

  /** Key check, deployment lookup and compiled plan: the trigger's whole resolution before it reads the body. */
  @Benchmark
  public Catalog.Target authorize() {
    return now(catalog.authorize(KEY, DEPLOYMENT));
  }
}
