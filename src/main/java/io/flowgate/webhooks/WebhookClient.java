package io.flowgate.webhooks;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * One delivery attempt over HTTP: POSTs the payload to the address the {@link UrlGuard} checked (never a fresh lookup;
 * the URL's host goes in {@code Host} and TLS SNI), signed afresh ({@code webhook-timestamp} is the attempt's),
 * follows no redirect, reads at most {@code max_response_bytes} of the answer and then cuts the connection, and gives
 * up at the attempt deadline. Event-loop only; one pooled client for the node, without keep-alive (each attempt
 * connects to a freshly checked address).
 */
final class WebhookClient {
  static final String USER_AGENT = "flowgate-webhooks/1";

  private final Vertx vertx;
  private final HttpClientAgent http;
  private final Duration timeout;
  private final int maxResponseBytes;

  WebhookClient(Vertx vertx, Duration timeout, int maxResponseBytes, int concurrency) {
    this.vertx = vertx;
    this.timeout = timeout;
    this.maxResponseBytes = maxResponseBytes;
    this.http = vertx.createHttpClient(new HttpClientOptions()
            .setKeepAlive(false)
            .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
            .setForceSni(true)
            .setVerifyHost(true)
            .setMaxRedirects(0)
            .setDecompressionSupported(false),
        new PoolOptions().setHttp1MaxSize(concurrency).setMaxWaitQueueSize(concurrency * 4));
  }

  /**
   * What the receiver answered: its status (0 when none came), or why there was no answer; the first bytes of its
   * body; its {@code Retry-After} and {@code Location} headers.
   */
  record Result(int status, String error, String body, String retryAfter, String location) {}

  /** Sends {@code body} as message {@code messageId}, signed with {@code secrets}; never fails (see Result). */
  Future<Result> send(UrlGuard.Target target, String messageId, Buffer body, List<String> secrets) {
    long timestamp = Instant.now().getEpochSecond();
    WebhookUrl url = target.url();
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setServer(SocketAddress.inetSocketAddress(url.port(), target.address().getHostAddress()))
        .setHost(url.host())
        .setPort(url.port())
        .setSsl(url.https())
        .setURI(url.requestUri())
        .setFollowRedirects(false)
        .setConnectTimeout(timeout.toMillis())
        .putHeader("content-type", "application/json")
        .putHeader("user-agent", USER_AGENT)
        .putHeader("webhook-id", messageId)
        .putHeader("webhook-timestamp", Long.toString(timestamp))
        .putHeader("webhook-signature", WebhookSigner.signatureHeader(messageId, timestamp, body.getBytes(), secrets));
    return new Exchange(options, body).start();
  }

  Future<Void> close() {
    return http.close();
  }

  /** One request and its answer under one deadline. Confined to the caller's context. */
  private final class Exchange {
    private final RequestOptions options;
    private final Buffer payload;
    private final Promise<Result> promise = Promise.promise();
    private long timer = -1;
    private HttpClientRequest request;
    private HttpClientResponse response;
    private Buffer received;

    Exchange(RequestOptions options, Buffer payload) {
      this.options = options;
      this.payload = payload;
    }

    Future<Result> start() {
      timer = vertx.setTimer(timeout.toMillis(), id -> {
        if (response != null) {
          // The status arrived in time; a body that trickles past the deadline does not change it.
          answer(true);
        } else {
          fail("no answer within " + timeout.toMillis() + " ms");
        }
      });
      http.request(options).onComplete(ar -> {
        if (ar.failed()) {
          fail("could not connect: " + messageOf(ar.cause()));
          return;
        }
        request = ar.result();
        if (promise.future().isComplete()) {
          request.reset();
          return;
        }
        request.send(payload).onComplete(r -> {
          if (r.failed()) {
            fail("the request failed: " + messageOf(r.cause()));
          } else {
            onResponse(r.result());
          }
        });
      });
      return promise.future();
    }

    private void onResponse(HttpClientResponse r) {
      if (promise.future().isComplete()) {
        return;
      }
      response = r;
      received = Buffer.buffer();
      if (maxResponseBytes == 0) {
        answer(true);
        return;
      }
      r.handler(chunk -> {
        if (promise.future().isComplete()) {
          return;
        }
        int room = maxResponseBytes - received.length();
        if (chunk.length() >= room) {
          received.appendBuffer(chunk, 0, room);
          // Enough: the rest of a large (or endless) body is never read.
          answer(true);
        } else {
          received.appendBuffer(chunk);
        }
      });
      r.exceptionHandler(t -> answer(true));
      r.endHandler(v -> answer(false));
    }

    private void answer(boolean cut) {
      if (promise.future().isComplete()) {
        return;
      }
      // Completed before the reset: the reset fails the request, and that must not become the result.
      promise.tryComplete(new Result(response.statusCode(), null, printable(received),
          response.getHeader("retry-after"), response.getHeader("location")));
      vertx.cancelTimer(timer);
      if (cut && request != null) {
        request.reset();
      }
    }

    private void fail(String error) {
      if (!promise.tryComplete(new Result(0, error, null, null, null))) {
        return;
      }
      vertx.cancelTimer(timer);
      if (request != null) {
        request.reset();
      }
    }
  }

  /** A receiver's bytes as text the log can keep: UTF-8, control characters (NUL included) replaced. */
  static String printable(Buffer bytes) {
    if (bytes == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(bytes.toString(StandardCharsets.UTF_8));
    for (int i = 0; i < out.length(); i++) {
      char c = out.charAt(i);
      if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f) {
        out.setCharAt(i, '\uFFFD');
      }
    }
    return out.toString();
  }

  private static String messageOf(Throwable t) {
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    m = printable(Buffer.buffer(m));
    return m.length() > 200 ? m.substring(0, 200) + "…" : m;
  }
}
