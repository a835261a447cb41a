package io.flowgate.webhooks;

import io.flowgate.config.GatewayConfig;
import io.flowgate.metrics.GatewayMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.sqlclient.Pool;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The webhooks feature assembled for one node: the delivery repository, the SSRF guard, the HTTP client, the outbox
 * relay and the dispatcher, run by one {@link WebhookVerticle}. Every node delivers; none is special. Start and close
 * from any thread.
 */
public final class Webhooks {
  private final Vertx vertx;
  private final WebhookClient client;
  private final WebhookVerticle verticle;
  private String deploymentId;

  /**
   * @param runs a run's wire form (as {@code GET /node/flow-runs} returns it) by id, null when it is unknown
   */
  public Webhooks(Vertx vertx, Redis redis, Supplier<Redis> dedicated, Pool pool, GatewayConfig config,
      GatewayMetrics metrics, Function<String, Future<JsonObject>> runs) {
    this.vertx = vertx;
    GatewayConfig.Webhooks w = config.webhooks();
    WebhookDeliveryRepository deliveries = new WebhookDeliveryRepository(pool);
    this.client = new WebhookClient(vertx, w.timeout(), w.maxResponseBytes(), w.concurrency());
    RetryPolicy policy = new RetryPolicy(w.retrySchedule(), w.retryJitterPercent() / 100.0, w.maxRetryAfter());
    WebhookDispatcher dispatcher = new WebhookDispatcher(deliveries, new UrlGuard(vertx, w.allowPrivateNetworks()),
        client, policy, metrics, w.concurrency(), w.timeout());
    // The relay runs on the verticle's context, as the dispatcher does: stored events wake it there.
    WebhookRelay relay = new WebhookRelay(vertx, redis, dedicated, config.redis().keyPrefix(), config.node().id(),
        deliveries, runs, w.relayBlock(), w.relayClaimIdle(), dispatcher::poll);
    this.verticle = new WebhookVerticle(relay, dispatcher, deliveries, metrics, w.pollInterval(),
        w.relayClaimIdle(), w.logRetention(), config.http().shutdownGrace());
  }

  public Future<Void> start() {
    return vertx.deployVerticle(verticle).map(id -> {
      deploymentId = id;
      return null;
    });
  }

  /** Stops relaying and taking deliveries; those in flight are recorded within the shutdown grace period. */
  public Future<Void> close() {
    Future<Void> undeploy = deploymentId == null ? Future.succeededFuture() : vertx.undeploy(deploymentId);
    return undeploy.recover(e -> Future.succeededFuture()).compose(v -> client.close());
  }
}
