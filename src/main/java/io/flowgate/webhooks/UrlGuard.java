package io.flowgate.webhooks;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The SSRF guard of callback URLs (OWASP API7): checks a URL's shape ({@link WebhookUrl}), resolves its host and
 * refuses it when <em>any</em> address it resolves to is not globally routable ({@link AddressClassifier}), unless
 * {@code webhooks.allow_private_networks} is set. The same check runs when a URL is configured (400
 * {@code invalid_webhook_url}) and before every delivery, which then connects to the address checked here, so a name
 * that re-resolves elsewhere (DNS rebinding) cannot steer a delivery. Name lookups run on worker threads. Thread-safe;
 * futures complete on the caller's context.
 */
public final class UrlGuard {
  /** A blocking name lookup: every address of {@code host}. */
  @FunctionalInterface
  public interface Resolver {
    InetAddress[] resolve(String host) throws UnknownHostException;
  }

  /** A URL that passed the guard and the address to connect to. */
  public record Target(WebhookUrl url, InetAddress address) {}

  static final String SUBJECT = "\"notification.url\"";
  private static final Duration RESOLVE_TIMEOUT = Duration.ofSeconds(5);
  private static final String ALLOW_HINT = " (set webhooks.allow_private_networks, env "
      + "FLOWGATE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true, to allow private networks for tests and local use).";

  private final Vertx vertx;
  private final boolean allowPrivate;
  private final Resolver resolver;

  public UrlGuard(Vertx vertx, boolean allowPrivate) {
    this(vertx, allowPrivate, InetAddress::getAllByName);
  }

  public UrlGuard(Vertx vertx, boolean allowPrivate, Resolver resolver) {
    this.vertx = vertx;
    this.allowPrivate = allowPrivate;
    this.resolver = resolver;
  }

  /**
   * Checks {@code url}; fails with 400 {@code invalid_webhook_url} naming the problem, or 503
   * {@code service_unavailable} when the name could not be looked up in time.
   */
  public Future<Target> check(String url) {
    WebhookUrl parsed;
    try {
      parsed = WebhookUrl.parse(url);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(invalid(SUBJECT + " " + e.getMessage()));
    }
    return check(parsed);
  }

  /** {@link #check(String)} of a parsed URL. */
  public Future<Target> check(WebhookUrl url) {
    return lookup(url).recover(e -> Future.failedFuture(e instanceof GatewayException ? e : lookupFailure(url, e)))
        .compose(addresses -> judge(url, addresses));
  }

  /**
   * The check before a delivery: refusals fail with 400 {@code invalid_webhook_url} as in {@link #check(String)};
   * a failed or slow name lookup fails with its own exception, a reason to try again later rather than a refusal.
   */
  Future<Target> beforeDelivery(String url) {
    WebhookUrl parsed;
    try {
      parsed = WebhookUrl.parse(url);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(invalid(SUBJECT + " " + e.getMessage()));
    }
    return lookup(parsed).compose(addresses -> judge(parsed, addresses));
  }

  /** The addresses of the URL's host: the literal, or a lookup on a worker thread (loopback names refused). */
  private Future<List<InetAddress>> lookup(WebhookUrl url) {
    if (url.literal() != null) {
      return Future.succeededFuture(List.of(url.literal()));
    }
    String host = url.host().endsWith(".") ? url.host().substring(0, url.host().length() - 1) : url.host();
    if (!allowPrivate && (host.equals("localhost") || host.endsWith(".localhost"))) {
      // RFC 6761: always loopback, whatever a resolver says.
      return Future.failedFuture(invalid(SUBJECT + " names '" + url.host() + "', a loopback host; flowgate calls "
          + "only public addresses" + ALLOW_HINT));
    }
    return vertx.executeBlocking(() -> Arrays.asList(resolver.resolve(host)), false)
        .timeout(RESOLVE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  private Future<Target> judge(WebhookUrl url, List<InetAddress> addresses) {
    if (addresses.isEmpty()) {
      return Future.failedFuture(invalid(SUBJECT + " host '" + url.host() + "' resolves to no address."));
    }
    if (!allowPrivate) {
      for (InetAddress address : addresses) {
        String refusal = AddressClassifier.refusal(address);
        if (refusal != null) {
          String shown = address.getHostAddress();
          String via = url.literal() != null ? " is " : " resolves to " + shown + ", ";
          return Future.failedFuture(invalid(SUBJECT + " host '" + url.host() + "'" + via + refusal
              + "; flowgate calls only public addresses" + ALLOW_HINT));
        }
      }
    }
    return Future.succeededFuture(new Target(url, addresses.get(0)));
  }

  private static GatewayException lookupFailure(WebhookUrl url, Throwable e) {
    if (e instanceof TimeoutException || e.getCause() instanceof TimeoutException) {
      return GatewayException.retryAfter(ErrorCode.SERVICE_UNAVAILABLE, "Looking up the host '" + url.host()
          + "' of " + SUBJECT + " took too long; retry in a few seconds.", 5);
    }
    return invalid(SUBJECT + " host '" + url.host() + "' does not resolve to any address; check the host name.");
  }

  private static GatewayException invalid(String message) {
    return new GatewayException(ErrorCode.INVALID_WEBHOOK_URL, message);
  }
}
