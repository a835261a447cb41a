package io.flowgate.testsupport;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scriptable inference server for tests, speaking both protocols of DESIGN §1.4 on loopback: readiness at
 * {@code /health} and {@code /v2/health/ready}, passthrough {@code POST /predict} (echoes; an input with a
 * {@code "reply"} member is answered with exactly that JSON value) and Open Inference {@code POST
 * /v2/models/{model}/infer} (a {@code label} BYTES tensor [n] and a {@code probabilities} FP32 tensor [n, 3]). The
 * {@link Mode} says how predictions (and, for BOOTING, readiness) are answered; {@link #latency} delays every
 * prediction. Thread-safe; its handlers run on the given Vert.x.
 */
public final class FakeInferenceServer implements AutoCloseable {
  /** How predictions are answered. */
  public enum Mode {
    /** 200 with a prediction. */
    READY,
    /** 503 to readiness checks and predictions (for {@link #bootFor} readiness checks, or until told). */
    BOOTING,
    /** 500 to predictions. */
    ERROR_500,
    /** Headers and half a body, then the connection is reset. */
    RESET,
    /** 200 with a body that is not JSON. */
    NOT_JSON,
    /** 200 with a JSON body of {@link #oversizedBytes} bytes. */
    OVERSIZED,
    /** Never answers predictions. */
    HOLD,
    /** Closes the connection on the next prediction without answering (a keep-alive close racing a reuse). */
    CLOSE_ONCE
  }

  private final Vertx vertx;
  private final HttpServer server;
  private final AtomicInteger predictions = new AtomicInteger();
  private final AtomicInteger readinessChecks = new AtomicInteger();
  private final AtomicInteger bootingChecksLeft = new AtomicInteger(-1);
  private final List<HttpServerRequest> held = new CopyOnWriteArrayList<>();
  private volatile Mode mode = Mode.READY;
  private volatile long latencyMs;
  private volatile int oversizedBytes = 2 * 1024 * 1024;
  private volatile JsonObject lastBody;

  private FakeInferenceServer(Vertx vertx, HttpServer server) {
    this.vertx = vertx;
    this.server = server;
  }

  /** Starts on a free loopback port. Blocking: call from a test thread. */
  public static FakeInferenceServer start(Vertx vertx) {
    return start(vertx, 0);
  }

  /** Starts on {@code port} (0 = any). Blocking: call from a test (or main) thread. */
  public static FakeInferenceServer start(Vertx vertx, int port) {
    FakeInferenceServer[] self = new FakeInferenceServer[1];
    HttpServer server = vertx.createHttpServer().requestHandler(r -> self[0].handle(r));
    self[0] = new FakeInferenceServer(vertx, server);
    try {
      server.listen(port, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("fake inference server failed to start: " + e, e);
    }
    return self[0];
  }

  public int port() {
    return server.actualPort();
  }

  public String url() {
    return "http://127.0.0.1:" + port();
  }

  public FakeInferenceServer mode(Mode mode) {
    this.mode = mode;
    bootingChecksLeft.set(-1);
    if (mode != Mode.HOLD) {
      releaseHeld();
    }
    return this;
  }

  /** BOOTING for the next {@code checks} readiness checks, then READY. */
  public FakeInferenceServer bootFor(int checks) {
    this.mode = Mode.BOOTING;
    bootingChecksLeft.set(checks);
    return this;
  }

  public FakeInferenceServer latency(long ms) {
    this.latencyMs = ms;
    return this;
  }

  public FakeInferenceServer oversizedBytes(int bytes) {
    this.oversizedBytes = bytes;
    return this;
  }

  /** Predictions received (whatever the answer). */
  public int predictions() {
    return predictions.get();
  }

  public int readinessChecks() {
    return readinessChecks.get();
  }

  /** The body of the last prediction request. */
  public JsonObject lastBody() {
    return lastBody;
  }

  private void handle(HttpServerRequest request) {
    String path = request.path();
    if (path.equals("/health") || path.equals("/v2/health/ready") || path.equals("/v2/health/live")) {
      readinessChecks.incrementAndGet();
      if (mode == Mode.BOOTING && bootingChecksLeft.get() != -1 && bootingChecksLeft.decrementAndGet() < 0) {
        mode = Mode.READY;
        bootingChecksLeft.set(-1);
      }
      request.response().setStatusCode(mode == Mode.BOOTING ? 503 : 200).end("{\"ready\":"
          + (mode != Mode.BOOTING) + "}");
      return;
    }
    boolean oip = path.startsWith("/v2/models/") && path.endsWith("/infer");
    if (!path.equals("/predict") && !oip) {
      request.response().setStatusCode(404).end("{\"error\":\"no such path\"}");
      return;
    }
    request.body().onSuccess(body -> {
      predictions.incrementAndGet();
      try {
        lastBody = body.length() == 0 ? null : new JsonObject(body);
      } catch (RuntimeException e) {
        lastBody = null;
      }
      Mode now = mode;
      if (latencyMs > 0 && now != Mode.HOLD) {
        vertx.setTimer(latencyMs, t -> answer(request, now, oip, body));
      } else {
        answer(request, now, oip, body);
      }
    });
  }

  private void answer(HttpServerRequest request, Mode now, boolean oip, Buffer body) {
    switch (now) {
      case BOOTING -> request.response().setStatusCode(503).end("{\"error\":\"model loading\"}");
      case ERROR_500 -> request.response().setStatusCode(500).end("{\"error\":\"the model crashed\"}");
      case NOT_JSON -> request.response().putHeader("content-type", "text/html").end("<html>oops</html>");
      case OVERSIZED -> {
        StringBuilder big = new StringBuilder(oversizedBytes + 20).append("{\"pad\":\"");
        big.append("x".repeat(oversizedBytes)).append("\"}");
        request.response().putHeader("content-type", "application/json").end(big.toString());
      }
      case RESET -> {
        request.response().setChunked(true).putHeader("content-type", "application/json").write("{\"label\":\"se");
        vertx.setTimer(20, t -> request.connection().close());
      }
      case HOLD -> held.add(request);
      case CLOSE_ONCE -> {
        mode(Mode.READY);
        request.connection().close();
      }
      default -> request.response().putHeader("content-type", "application/json")
          .end(oip ? oipAnswer(body) : passthroughAnswer(body));
    }
  }

  private static String passthroughAnswer(Buffer body) {
    JsonObject input = body.length() == 0 ? new JsonObject() : new JsonObject(body);
    if (input.containsKey("reply")) {
      Object reply = input.getValue("reply");
      return reply == null ? "null" : reply instanceof String s ? "\"" + s + "\"" : String.valueOf(
          reply instanceof JsonObject || reply instanceof JsonArray ? reply.toString() : reply);
    }
    return new JsonObject().put("label", "setosa").put("received", input).encode();
  }

  private static String oipAnswer(Buffer body) {
    JsonObject request = new JsonObject(body);
    JsonObject tensor = request.getJsonArray("inputs").getJsonObject(0);
    int rows = tensor.getJsonArray("shape").getInteger(0);
    JsonArray labels = new JsonArray();
    JsonArray probabilities = new JsonArray();
    for (int i = 0; i < rows; i++) {
      labels.add("setosa");
      probabilities.add(0.9).add(0.07).add(0.03);
    }
    return new JsonObject().put("model_name", "iris").put("model_version", "1").put("outputs", new JsonArray()
        .add(new JsonObject().put("name", "label").put("shape", new JsonArray().add(rows)).put("datatype", "BYTES")
            .put("data", labels))
        .add(new JsonObject().put("name", "probabilities").put("shape", new JsonArray().add(rows).add(3))
            .put("datatype", "FP32").put("data", probabilities))).encode();
  }

  private void releaseHeld() {
    List<HttpServerRequest> pending = new ArrayList<>(held);
    held.clear();
    for (HttpServerRequest r : pending) {
      r.connection().close();
    }
  }

  /** Stops listening and drops held requests. Blocking. */
  @Override
  public void close() {
    releaseHeld();
    try {
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("fake inference server failed to stop: " + e, e);
    }
  }
}
