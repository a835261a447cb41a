package io.flowgate.deployments;

import io.flowgate.GatewayException;
import io.flowgate.flow.NodeServices;
import io.flowgate.flow.NodeTypes;
import io.flowgate.testsupport.TestBackends;
import io.flowgate.testsupport.Futures;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

/**
 * Test plumbing for the repository and control-plane tests: a pool on a fresh migrated database of the test class,
 * the built-in node types, and blocking waits for Futures on the JUnit thread (never on an event loop).
 */
public final class DbFixture {

  private DbFixture() {
  }

  /** A pool on a fresh, migrated database that belongs to {@code testClass} alone. */
  public static Pool pool(Vertx vertx, Class<?> testClass) {
    String url = TestBackends.newDatabase(testClass.getSimpleName());
    return PgBuilder.pool().connectingTo(url).with(new PoolOptions().setMaxSize(4)).using(vertx).build();
  }

  public static NodeTypes nodeTypes(Vertx vertx) {
    return NodeTypes.load(new NodeServices(vertx, null, null));
  }

  /** The Future's result; fails the test when it failed or took more than 30 s. */
  public static <T> T await(Future<T> future) {
    return Futures.await(future);
  }

  /** The Future's failure; fails the test when it succeeded. */
  public static Throwable awaitFailure(Future<?> future) {
    return Futures.awaitFailure(future);
  }

  /** The failure, which must be a {@link GatewayException}. */
  public static GatewayException awaitGatewayFailure(Future<?> future) {
    Throwable failure = awaitFailure(future);
    if (!(failure instanceof GatewayException ge)) {
      throw new AssertionError("expected a GatewayException but got " + failure, failure);
    }
    return ge;
  }
}
