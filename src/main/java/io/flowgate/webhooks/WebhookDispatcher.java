package io.flowgate.webhooks;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.metrics.GatewayMetrics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes this node's share of the webhook deliveries: takes due ones from PostgreSQL (any node may take any), checks
 * each URL again with the {@link UrlGuard}, sends it with the {@link WebhookClient} and records the attempt. 2xx is
 * success; a 410 fails the delivery and disables the endpoint; anything else (3xx included: redirects are not
 * followed, errors, timeouts) is retried on the {@link RetryPolicy}'s schedule, honouring {@code Retry-After}, until
 * it is used up. At most {@code concurrency} deliveries at once. Event-loop only (the verticle's).
 */
final class WebhookDispatcher {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookDispatcher.class);
  // The guard's name lookup may take this long before the attempt's own deadline starts.
  private static final Duration RESOLVE_ALLOWANCE = Duration.ofSeconds(5);
  // Time to record the outcome after the attempt's deadline, before another node may take the delivery again.
  private static final Duration RECORD_ALLOWANCE = Duration.ofSeconds(2);

  private final WebhookDeliveryRepository deliveries;
  private final UrlGuard guard;
  private final WebhookClient client;
  private final RetryPolicy policy;
  private final GatewayMetrics metrics;
  private final int concurrency;
  private final Duration lease;
  private int inFlight;
  private boolean claiming;
  private boolean again;
  private boolean stopped;
  private Promise<Void> drained;

  WebhookDispatcher(WebhookDeliveryRepository deliveries, UrlGuard guard, WebhookClient client, RetryPolicy policy,
      GatewayMetrics metrics, int concurrency, Duration timeout) {
    this.deliveries = deliveries;
    this.guard = guard;
    this.client = client;
    this.policy = policy;
    this.metrics = metrics;
    this.concurrency = concurrency;
    this.lease = timeout.plus(RESOLVE_ALLOWANCE).plus(RECORD_ALLOWANCE);
  }

  /** Takes and starts the deliveries that are due, as many as there is room for. */
  void poll() {
    if (stopped) {
      return;
    }
    if (claiming) {
      again = true;
      return;
    }
    int room = concurrency - inFlight;
    if (room <= 0) {
      again = true;
      return;
    }
    claiming = true;
    again = false;
    UUID claim = UUID.randomUUID();
    deliveries.claim(room, claim, lease).onComplete(ar -> {
      claiming = false;
      if (ar.failed()) {
        LOG.debug("taking due webhook deliveries failed: {}", ar.cause().getMessage());
        return;
      }
      List<WebhookDeliveryRepository.Claimed> taken = ar.result();
      for (WebhookDeliveryRepository.Claimed c : taken) {
        inFlight++;
        deliver(c, claim).onComplete(done -> {
          if (done.failed()) {
            // Not recorded: the claim runs out and the delivery falls due again.
            LOG.warn("webhook delivery {} could not be recorded: {}", c.id(), done.cause().getMessage());
          }
          inFlight--;
          if (stopped && inFlight == 0 && drained != null) {
            drained.tryComplete();
          } else if (again) {
            poll();
          }
        });
      }
      if (taken.size() == room || again) {
        again = true;
        poll();
      }
    });
  }

  private Future<Void> deliver(WebhookDeliveryRepository.Claimed c, UUID claim) {
    if (!"webhook".equals(c.method()) || c.url() == null) {
      return skip(c, claim, "The deployment no longer sends webhooks (its notification was changed or removed).");
    }
    if (c.disabledAt() != null) {
      return skip(c, claim, "The endpoint is disabled (its receiver answered 410 Gone); set the deployment's "
          + "\"notification\" again to enable it, then redeliver.");
    }
    Instant started = Instant.now();
    long t0 = System.nanoTime();
    if (c.secret() == null) {
      return record(c, claim, started, t0, Attempt.refused("The deployment has no signing secret yet; create one "
          + "with POST /api/v1/deployments/" + c.deploymentId() + "/webhook-secret/rotate."));
    }
    return guard.beforeDelivery(c.url())
        .compose(target -> client.send(target, c.messageId(), Buffer.buffer(c.payload()), c.secrets())
            .map(Attempt::of))
        .recover(e -> Future.succeededFuture(e instanceof GatewayException ge
            && ge.code() == ErrorCode.INVALID_WEBHOOK_URL ? Attempt.refused("Refused: " + ge.detail())
            : Attempt.error("The host could not be resolved: " + describe(e), "network")))
        .compose(attempt -> record(c, claim, started, t0, attempt));
  }

  /** One attempt's result, classified. */
  private record Attempt(WebhookClient.Result result, String error, String kind, boolean refused) {
    static Attempt of(WebhookClient.Result r) {
      if (r.status() == 0) {
        return new Attempt(r, r.error(), r.error() != null && r.error().startsWith("no answer") ? "timeout"
            : "network", false);
      }
      int s = r.status();
      String error = null;
      if (s >= 300 && s < 400) {
        error = "Answered " + s + ", a redirect" + (r.location() == null ? ""
            : " to " + shorten(WebhookClient.printable(Buffer.buffer(r.location()))))
            + "; flowgate follows no redirects: set the final URL in the deployment's notification.";
      } else if (s == 410) {
        error = "Answered 410 Gone: the endpoint is disabled; set the deployment's \"notification\" again to "
            + "enable it.";
      } else if (s < 200 || s >= 300) {
        error = "Answered " + s + ".";
      }
      return new Attempt(r, error, (s / 100) + "xx", false);
    }

    static Attempt refused(String why) {
      return new Attempt(null, why, "refused", true);
    }

    static Attempt error(String why, String kind) {
      return new Attempt(null, why, kind, false);
    }

    int status() {
      return result == null ? 0 : result.status();
    }
  }

  private Future<Void> record(WebhookDeliveryRepository.Claimed c, UUID claim, Instant started, long t0,
      Attempt a) {
    double durationMs = (System.nanoTime() - t0) / 1e6;
    metrics.webhookAttempt(a.kind());
    int status = a.status();
    String excerpt = a.result() == null ? null : a.result().body();
    Instant now = Instant.now();
    String state;
    Duration next = null;
    String error = a.error();
    if (status >= 200 && status < 300) {
      state = "succeeded";
    } else if (status == 410 || a.refused()) {
      state = "failed";
    } else {
      Duration retryAfter = a.result() == null ? null
          : RetryPolicy.parseRetryAfter(a.result().retryAfter(), now);
      Duration delay = policy.nextDelay(c.attempt() - c.scheduleFrom(), retryAfter, ThreadLocalRandom.current());
      if (delay == null) {
        state = "failed";
        error = "Gave up after " + (c.attempt() - c.scheduleFrom()) + " attempts; the last: " + error;
      } else {
        state = "pending";
        next = delay;
      }
    }
    WebhookDeliveryRepository.Outcome outcome = new WebhookDeliveryRepository.Outcome(state, next,
        status == 0 ? null : status, error, started, durationMs, excerpt);
    Future<Void> disabled = status == 410
        ? deliveries.disableEndpoint(c.deploymentId(), "The receiver answered 410 Gone at " + now + ".")
            .onSuccess(v -> LOG.info("webhook endpoint of deployment {} disabled: its receiver answered 410",
                c.deploymentId()))
        : Future.succeededFuture();
    return disabled.compose(v -> deliveries.complete(c, claim, outcome)).map(recorded -> {
      if (recorded && !"pending".equals(state)) {
        metrics.webhookDelivered(state, Duration.between(c.createdAt(), now));
      }
      return null;
    });
  }

  private Future<Void> skip(WebhookDeliveryRepository.Claimed c, UUID claim, String why) {
    return deliveries.skip(c, claim, why).onSuccess(v -> metrics.webhookDelivered("skipped", null));
  }

  private static String describe(Throwable e) {
    if (e instanceof java.util.concurrent.TimeoutException) {
      return "the lookup took too long";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : shorten(e.getMessage());
  }

  private static String shorten(String s) {
    return s.length() > 200 ? s.substring(0, 200) + "…" : s;
  }

  /** Takes no more deliveries; completes when those in flight have been recorded (or after {@code grace}). */
  Future<Void> stop(Duration grace) {
    stopped = true;
    if (inFlight == 0) {
      return Future.succeededFuture();
    }
    drained = Promise.promise();
    return drained.future().timeout(grace.toMillis(), TimeUnit.MILLISECONDS)
        .recover(e -> Future.succeededFuture());
  }
}
