package io.flowgate.deployments;

import io.flowgate.GatewayException;
import io.flowgate.flow.NodeServices;
import io.flowgate.flow.NodeTypes;
import io.flowgate.testsupport.TestBackends;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Test plumbing for the repository and control-plane tests: a pool on a fresh migrated database of the test class,
 * the built-in node types, and blocking waits for Futures on the JUnit thread (never on an event loop).
 */
public final class DbFixture {
  private static final long TIMEOUT_SECONDS = 30;

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
    try {
      return future.toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("expected success but failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("no result within " + TIMEOUT_SECONDS + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** The Future's failure; fails the test when it succeeded. */
  public static Throwable awaitFailure(Future<?> future) {
    try {
      Object value = future.toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure but got " + value);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      throw new AssertionError("no result within " + TIMEOUT_SECONDS + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
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
