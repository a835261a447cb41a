package io.flowgate.runs;

import io.flowgate.config.GatewayConfig;
import io.flowgate.deployments.Catalog;
import io.flowgate.flow.FlowExecutor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import java.util.function.Supplier;

/**
 * The runs feature assembled: the Redis run store, this node's notice subscriber, the run service and the queue
 * worker. Start and close from any thread.
 */
public final class Runs {
  private final Vertx vertx;
  private final RunStore store;
  private final RunNotices notices;
  private final RunService service;
  private final RunWorkerVerticle worker;
  private String workerDeployment;

  public Runs(Vertx vertx, Redis redis, Supplier<Redis> dedicated, FlowExecutor executor,
      RunHistoryRepository history, Catalog catalog, GatewayConfig config) {
    this.vertx = vertx;
    String nodeId = config.node().id();
    GatewayConfig.Runs r = config.runs();
    this.store = new RunStore(redis, config.redis().keyPrefix(), r.stateTtl());
    this.notices = new RunNotices(vertx, dedicated, store, nodeId);
    this.service = new RunService(vertx, store, notices, executor, history, nodeId, r.defaultTimeout());
    this.worker = new RunWorkerVerticle(dedicated, store, service, catalog, history, nodeId, r.workerConcurrency(),
        r.queueBlock());
  }

  public Future<Void> start() {
    return notices.start()
        .compose(v -> vertx.deployVerticle(worker))
        .map(id -> {
          workerDeployment = id;
          return null;
        });
  }

  public RunService service() {
    return service;
  }

  /** Stops taking runs (finishing the ones in hand), then the notice subscriber. */
  public Future<Void> close() {
    Future<Void> undeploy = workerDeployment == null ? Future.succeededFuture() : vertx.undeploy(workerDeployment);
    return undeploy.recover(e -> Future.succeededFuture()).compose(v -> notices.close());
  }
}
