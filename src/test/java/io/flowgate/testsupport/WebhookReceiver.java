package io.flowgate.testsupport;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;

/**
 * A webhook receiver for tests: a real HTTP server on {@code 127.0.0.1} (free port, its own Vert.x) that records every
 * delivery (path, headers, exact body, arrival) and answers per path as scripted: by default 200; a script sees the
 * path's call number (1-based) and returns a {@link Reply} — a status with headers and a body, a body streamed without
 * end, or no answer at all. Counts every TCP connection, so a test can prove none was made. Thread-safe.
 */
public final class WebhookReceiver implements AutoCloseable {

  /** One delivery as received, and the status it was answered with (0: none). */
  public record Delivery(String path, Map<String, String> headers, Buffer body, long arrivedAtNanos, int status) {
    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    public String webhookId() {
      return header("webhook-id");
    }

    public JsonObject json() {
      return new JsonObject(body);
    }

    /** Headers as java.net.http's map form, for the reference library's verifier. */
    public Map<String, List<String>> headerLists() {
      return headers.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> List.of(e.getValue())));
    }
  }

  /** How to answer one call. */
  public record Reply(int status, Map<String, String> headers, String body, boolean silent, long streamBytes) {
    public static Reply status(int status) {
      return new Reply(status, Map.of(), "", false, 0);
    }

    public static Reply status(int status, Map<String, String> headers) {
      return new Reply(status, headers, "", false, 0);
    }

    /** Accepts the request and never answers. */
    public static Reply hang() {
      return new Reply(0, Map.of(), null, true, 0);
    }

    /** 200 with a chunked body of {@code bytes} bytes, written in 64 KiB chunks as fast as the client takes them. */
    public static Reply huge(long bytes) {
      return new Reply(200, Map.of(), null, false, bytes);
    }
  }

  private final Vertx vertx;
  private final HttpServer server;
  private final List<Delivery> deliveries = new CopyOnWriteArrayList<>();
  private final Map<String, Function<Integer, Reply>> scripts = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger streamedChunks = new AtomicInteger();

  private WebhookReceiver(Vertx vertx) {
    this.vertx = vertx;
    this.server = vertx.createHttpServer()
        .connectionHandler(c -> connections.incrementAndGet())
        .requestHandler(this::handle);
  }

  public static WebhookReceiver start() {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    WebhookReceiver receiver = new WebhookReceiver(vertx);
    Futures.await(receiver.server.listen(0, "127.0.0.1"));
    return receiver;
  }

  private void handle(HttpServerRequest request) {
    request.body().onSuccess(body -> {
      Map<String, String> headers = new ConcurrentHashMap<>();
      request.headers().forEach(h -> headers.put(h.getKey().toLowerCase(Locale.ROOT), h.getValue()));
      String path = request.path();
      long arrived = System.nanoTime();
      int n = calls.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
      Reply reply = scripts.getOrDefault(path, x -> Reply.status(200)).apply(n);
      deliveries.add(new Delivery(path, headers, body, arrived, reply.silent() ? 0 : reply.status()));
      if (reply.silent()) {
        return;
      }
      reply.headers().forEach(request.response()::putHeader);
      request.response().setStatusCode(reply.status());
      if (reply.streamBytes() > 0) {
        request.response().setChunked(true);
        stream(request, reply.streamBytes());
      } else {
        request.response().end(reply.body());
      }
    });
  }

  private void stream(HttpServerRequest request, long left) {
    if (left <= 0 || request.response().closed()) {
      request.response().end();
      return;
    }
    int size = (int) Math.min(64 * 1024, left);
    streamedChunks.incrementAndGet();
    request.response().write(Buffer.buffer(new byte[size]))
        .onComplete(ar -> {
          if (ar.succeeded()) {
            stream(request, left - size);
          }
        });
  }

  /** Scripts the answers of {@code path}: {@code script} gets the path's call number (1-based). */
  public WebhookReceiver on(String path, Function<Integer, Reply> script) {
    scripts.put(path, script);
    return this;
  }

  public String url(String path) {
    return "http://127.0.0.1:" + server.actualPort() + path;
  }

  public int port() {
    return server.actualPort();
  }

  /** Every delivery to {@code path} so far, in arrival order. */
  public List<Delivery> deliveries(String path) {
    List<Delivery> out = new ArrayList<>();
    for (Delivery d : deliveries) {
      if (d.path().equals(path)) {
        out.add(d);
      }
    }
    return out;
  }

  /** Waits until {@code path} has had at least {@code n} deliveries; returns them. */
  public List<Delivery> await(String path, int n, Duration within) {
    Awaitility.await().atMost(within.toMillis(), TimeUnit.MILLISECONDS).pollInterval(20, TimeUnit.MILLISECONDS)
        .until(() -> deliveries(path).size() >= n);
    return deliveries(path);
  }

  /** TCP connections accepted so far. */
  public int connections() {
    return connections.get();
  }

  /** 64 KiB chunks written by {@link Reply#huge} answers so far. */
  public int streamedChunks() {
    return streamedChunks.get();
  }

  @Override
  public void close() {
    Futures.await(vertx.close());
  }
}
