package io.flowgate.deployments;

import static io.flowgate.deployments.DbFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The catalog's safety-net refresh on real PostgreSQL: when a cached key and deployment pass their TTL under load,
 * the requests in flight are answered from the expiring entries while one load per entry refreshes them (not one load
 * per request, which put 80-110 ms into the p99.9 of the fast benchmark at every expiry); a key changed in the
 * database without a change notice is refused once that refresh lands; and a request that finds no entry at all waits
 * for the one shared load, on its own event loop.
 */
class CatalogRefreshTest {
  private static Vertx vertx;
  private static Pool pool;
  private static ApiKeyRepository keys;
  private static Deployment deployment;
  private static java.util.UUID profile;

  @BeforeAll
  static void startDatabase() {
    vertx = Vertx.vertx();
    pool = DbFixture.pool(vertx, CatalogRefreshTest.class);
    keys = new ApiKeyRepository(pool);
    profile = await(new ProfileRepository(pool).create("refresh")).profile().id();
    StoredFlow flow = await(new FlowRepository(pool).create(profile, SampleFlows.greeting("f")));
    deployment = await(new DeploymentRepository(pool).create(profile, DeploymentSettings.parse(
        new JsonObject().put("flow_id", flow.id().toString()), false))).deployment();
  }

  @AfterAll
  static void stop() {
    await(pool.close());
    await(vertx.close());
  }

  private static Catalog catalog(Duration ttl) {
    return new Catalog(keys, new DeploymentRepository(pool), new FlowRepository(pool), DbFixture.nodeTypes(vertx),
        ttl);
  }

  /** {@code n} authorizations started together on {@code loops} event loops; each completes on its own loop. */
  private static List<Future<Catalog.Target>> burst(Catalog catalog, String key, int n, List<Context> loops) {
    List<Future<Catalog.Target>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Context loop = loops.get(i % loops.size());
      Promise<Catalog.Target> answer = Promise.promise();
      loop.runOnContext(v -> {
        Thread mine = Thread.currentThread();
        catalog.authorize(key, deployment.id()).onComplete(ar -> {
          if (Thread.currentThread() != mine) {
            answer.fail(new AssertionError("completed on " + Thread.currentThread() + ", not on " + mine));
          } else {
            answer.handle(ar);
          }
        });
      });
      all.add(answer.future());
    }
    return all;
  }

  /** The code {@code key} is refused with now, or null when it is accepted. */
  private static ErrorCode refusedWith(Catalog catalog, String key) throws Exception {
    try {
      catalog.authorize(key, deployment.id()).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause() instanceof GatewayException ge ? ge.code() : null;
    }
  }

  @Test
  void an_expiring_entry_under_load_costs_one_load_per_entry_and_no_wait() throws Exception {
    Catalog catalog = catalog(Duration.ofMillis(300));
    String key = await(keys.createForDeployment(profile, deployment.id(), "load")).plainKey();
    List<Context> loops = List.of(vertx.getOrCreateContext(), vertx.getOrCreateContext());

    // Nothing cached: 40 concurrent calls share one key load and one deployment load.
    List<Future<Catalog.Target>> cold = burst(catalog, key, 40, loops);
    await(Future.all(cold));
    assertThat(catalog.loads()).isBetween(2L, 4L);

    Thread.sleep(400);
    long before = catalog.loads();
    List<Future<Catalog.Target>> expired = burst(catalog, key, 40, loops);
    await(Future.all(expired));
    for (Future<Catalog.Target> f : expired) {
      assertThat(f.result().key().id()).isNotNull();
    }
    // One refresh each for the key and the deployment, not one per call.
    assertThat(catalog.loads() - before).isBetween(1L, 4L);
  }

  @Test
  void a_key_deactivated_without_a_notice_is_refused_once_its_refresh_lands() throws Exception {
    Catalog catalog = catalog(Duration.ofMillis(300));
    NewApiKey created = await(keys.createForDeployment(profile, deployment.id(), "quiet"));
    assertThat(await(catalog.authorize(created.plainKey(), deployment.id())).key().active()).isTrue();
    // Changed behind the catalog's back: no change notice reaches it.
    await(keys.deactivate(profile, created.key().id()));
    Thread.sleep(400);
    Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> refusedWith(catalog, created.plainKey())
        == ErrorCode.API_KEY_INACTIVE);
  }

  @Test
  void a_deleted_key_is_refused_once_its_refresh_lands() throws Exception {
    Catalog catalog = catalog(Duration.ofMillis(300));
    NewApiKey created = await(keys.createForDeployment(profile, deployment.id(), "gone"));
    await(catalog.authorize(created.plainKey(), deployment.id()));
    await(keys.delete(profile, created.key().id()));
    Thread.sleep(400);
    Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> refusedWith(catalog, created.plainKey())
        == ErrorCode.INVALID_API_KEY);
  }
}
