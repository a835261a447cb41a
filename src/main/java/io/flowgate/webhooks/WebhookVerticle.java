package io.flowgate.webhooks;

import io.flowgate.metrics.GatewayMetrics;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's webhook worker: runs the outbox {@link WebhookRelay} and the {@link WebhookDispatcher} on one event
 * loop, looks for due deliveries every {@code poll_interval_ms} (and at once when the relay stored some), takes over
 * a silent node's outbox entries, keeps the queue gauges current and purges the log past its retention. Event-loop
 * only.
 */
final class WebhookVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookVerticle.class);
  private static final long STATS_EVERY_MS = 5_000;
  private static final long PURGE_EVERY_MS = 3_600_000;

  private final WebhookRelay relay;
  private final WebhookDispatcher dispatcher;
  private final WebhookDeliveryRepository deliveries;
  private final GatewayMetrics metrics;
  private final Duration pollInterval;
  private final Duration claimIdle;
  private final Duration retention;
  private final Duration grace;

  WebhookVerticle(WebhookRelay relay, WebhookDispatcher dispatcher, WebhookDeliveryRepository deliveries,
      GatewayMetrics metrics, Duration pollInterval, Duration claimIdle, Duration retention, Duration grace) {
    this.relay = relay;
    this.dispatcher = dispatcher;
    this.deliveries = deliveries;
    this.metrics = metrics;
    this.pollInterval = pollInterval;
    this.claimIdle = claimIdle;
    this.retention = retention;
    this.grace = grace;
  }

  @Override
  public Future<?> start() {
    return relay.start().onSuccess(v -> {
      dispatcher.poll();
      vertx.setPeriodic(pollInterval.toMillis(), t -> dispatcher.poll());
      vertx.setPeriodic(Math.max(100, claimIdle.toMillis() / 2), t -> relay.claimStuck());
      vertx.setPeriodic(STATS_EVERY_MS, t -> deliveries.queueStats()
          .onSuccess(s -> metrics.webhookQueue((long) s[0], s[1]))
          .onFailure(e -> LOG.debug("counting webhook deliveries failed: {}", e.getMessage())));
      vertx.setPeriodic(PURGE_EVERY_MS, t -> deliveries.purge(retention)
          .onSuccess(n -> LOG.debug("purged {} old webhook deliveries", n))
          .onFailure(e -> LOG.debug("purging webhook deliveries failed: {}", e.getMessage())));
    });
  }

  @Override
  public Future<?> stop() {
    return relay.stop().compose(v -> dispatcher.stop(grace));
  }
}
