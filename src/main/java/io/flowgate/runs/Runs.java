package io.flowgate.runs;

import io.flowgate.config.GatewayConfig;
import io.flowgate.deployments.Catalog;
import io.flowgate.flow.FlowExecutor;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.sqlclient.Pool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The runs feature assembled: the Redis run store, this node's notice subscriber, the PostgreSQL accept log, the run
 * service and the queue workers (one per event loop). Start and close from any thread.
 */
public final class Runs {
  private final Vertx vertx;
  private final RunNotices notices;
  private final RunService service;
  private final Supplier<Redis> dedicated;
  private final RunStore store;
  private final Catalog catalog;
  private final RunHistoryRepository history;
  private final GatewayConfig config;
  private String workerDeployment;

  public Runs(Vertx vertx, Redis redis, Supplier<Redis> dedicated, Pool pool, FlowExecutor executor,
      RunHistoryRepository history, Catalog catalog, GatewayConfig config) {
    this.vertx = vertx;
    this.config = config;
    String nodeId = config.node().id();
    GatewayConfig.Runs r = config.runs();
    RunStore store = new RunStore(redis, config.redis().keyPrefix(), r.stateTtl(), r.syncStateTtl(),
        config.redis().commandTimeout());
    this.notices = new RunNotices(vertx, dedicated, store);
    this.service = new RunService(vertx, store, notices, executor, history, new AcceptLog(vertx, pool, nodeId),
        nodeId, r);
    this.dedicated = dedicated;
    this.store = store;
    this.catalog = catalog;
    this.history = history;
  }

  /**
   * One queue worker per event loop, as many as the HTTP verticles ({@code http.event_loops}, 0 = one per core), but
   * no more than {@code worker_concurrency}: each executes at least one run at a time.
   */
  public Future<Void> start() {
    int instances = Math.max(1, Math.min(config.http().loops(), config.runs().workerConcurrency()));
    AtomicInteger next = new AtomicInteger();
    return notices.start()
        .compose(v -> vertx.deployVerticle(() -> new RunWorkerVerticle(dedicated, store, service, catalog, history,
            config.node().id(), config.runs(), next.getAndIncrement(), instances),
            new DeploymentOptions().setInstances(instances)))
        .map(id -> {
          workerDeployment = id;
          return null;
        });
  }

  public RunService service() {
    return service;
  }

  /**
   * Stops taking runs, lets the runs executing here finish within the shutdown grace period (the rest are taken
   * over by other nodes when their leases expire), then closes the notice subscriber.
   */
  public Future<Void> close() {
    Future<Void> undeploy = workerDeployment == null ? Future.succeededFuture() : vertx.undeploy(workerDeployment);
    return undeploy.recover(e -> Future.succeededFuture())
        .compose(v -> drain(System.currentTimeMillis() + config.http().shutdownGrace().toMillis()))
        .compose(v -> notices.close());
  }

  private Future<Void> drain(long deadline) {
    if (service.executingCount() == 0 || System.currentTimeMillis() >= deadline) {
      return Future.succeededFuture();
    }
    Promise<Void> p = Promise.promise();
    vertx.setTimer(50, t -> drain(deadline).onComplete(p));
    return p.future();
  }
}
