package io.flowgate.inference.reference;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reference inference server's HTTP endpoints: passthrough ({@code POST /predict}, {@code GET /health}) and the
 * Open Inference Protocol v2 ({@code /v2/health/*}, {@code /v2/models/iris[/versions/1][/ready|/infer]}). A plain
 * request handler with a switch on the path rather than a Router: the prediction path is benchmarked, and this one
 * does no per-request routing work. One instance per event loop; event-loop only.
 */
final class ReferenceInferenceVerticle extends VerticleBase {
  /** Largest accepted request body; a batch of ~40 000 rows fits. */
  static final int BODY_LIMIT = 1024 * 1024;

  private static final Logger LOG = LoggerFactory.getLogger(ReferenceInferenceVerticle.class);
  private static final CharSequence APPLICATION_JSON = HttpHeaders.createOptimized("application/json");
  private static final CharSequence RETRY_AFTER = HttpHeaders.createOptimized("retry-after");
  private static final CharSequence ALLOW = HttpHeaders.createOptimized("allow");
  private static final CharSequence GET = HttpHeaders.createOptimized("GET");
  private static final CharSequence POST = HttpHeaders.createOptimized("POST");
  private static final CharSequence CLOSE = HttpHeaders.createOptimized("close");
  private static final String MODELS = "/v2/models/";
  private static final String MODEL = MODELS + IrisModel.NAME;
  private static final String MODEL_VERSION = MODEL + "/versions/" + IrisModel.VERSION;

  private static final byte[] LIVE = bytes("{\"live\":true}");
  private static final byte[] READY = bytes("{\"ready\":true}");
  private static final byte[] HEALTH_READY = bytes("{\"status\":\"ready\",\"model\":\"" + IrisModel.NAME + "\"}");
  private static final byte[] MODEL_METADATA = bytes(new JsonObject()
      .put("name", IrisModel.NAME)
      .put("versions", new JsonArray().add(IrisModel.VERSION))
      .put("platform", "tribuo_linear_sgd")
      .put("inputs", new JsonArray().add(tensor(InferenceRequests.INPUT_NAME, InferenceRequests.INPUT_DATATYPE,
          -1, IrisModel.FEATURES)))
      .put("outputs", new JsonArray()
          .add(tensor("label", "BYTES", -1))
          .add(tensor("probabilities", "FP32", -1, IrisModel.LABELS.size())))
      .encode());
  private static final byte[] SERVER_METADATA = bytes(new JsonObject()
      .put("name", "flowgate-reference-inference")
      .put("version", "1")
      .put("extensions", new JsonArray())
      .encode());

  private static final Handler<Throwable> IGNORE = e -> { };
  private static final int PREDICT = 1;
  private static final int INFER = 2;

  private final BootState state;
  private final String host;
  private final int port;
  private final AtomicInteger boundPort;
  private final InferenceResponses responses = new InferenceResponses();
  private HttpServer server;

  ReferenceInferenceVerticle(BootState state, String host, int port, AtomicInteger boundPort) {
    this.state = state;
    this.host = host;
    this.port = port;
    this.boundPort = boundPort;
  }

  @Override
  public Future<?> start() {
    server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port))
        .requestHandler(this::handle);
    return server.listen().onSuccess(s -> boundPort.set(s.actualPort()));
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    HttpMethod method = req.method();
    switch (path) {
      case "/predict" -> post(req, method, PREDICT);
      case MODEL + "/infer", MODEL_VERSION + "/infer" -> post(req, method, INFER);
      case "/health" -> {
        if (get(req, method)) {
          readiness(req, HEALTH_READY);
        }
      }
      case "/v2/health/ready", MODEL + "/ready", MODEL_VERSION + "/ready" -> {
        if (get(req, method)) {
          readiness(req, READY);
        }
      }
      case "/v2/health/live" -> {
        if (get(req, method)) {
          send(req, 200, Buffer.buffer(LIVE));
        }
      }
      case MODEL, MODEL_VERSION -> {
        if (get(req, method)) {
          send(req, 200, Buffer.buffer(MODEL_METADATA));
        }
      }
      case "/v2" -> {
        if (get(req, method)) {
          send(req, 200, Buffer.buffer(SERVER_METADATA));
        }
      }
      default -> notFound(req, path);
    }
  }

  private boolean get(HttpServerRequest req, HttpMethod method) {
    if (method == HttpMethod.GET) {
      return true;
    }
    req.response().putHeader(ALLOW, GET);
    send(req, 405, InferenceResponses.error("use GET for " + clip(req.path())));
    return false;
  }

  private void readiness(HttpServerRequest req, byte[] readyBody) {
    if (state.readyModel() != null) {
      send(req, 200, Buffer.buffer(readyBody));
    } else {
      booting(req);
    }
  }

  /** A prediction endpoint: refuse at once while booting, else collect the body (bounded) and answer. */
  private void post(HttpServerRequest req, HttpMethod method, int kind) {
    if (method != HttpMethod.POST) {
      req.response().putHeader(ALLOW, POST);
      send(req, 405, InferenceResponses.error("use POST for " + clip(req.path())));
      return;
    }
    if (state.readyModel() == null) {
      booting(req);
      return;
    }
    String length = req.getHeader(HttpHeaderNames.CONTENT_LENGTH);
    if (length != null && tooLong(length)) {
      tooLarge(req);
      return;
    }
    req.handler(new Body(req, kind));
    // curl sends Expect: 100-continue for bodies over 1 KiB and waits a second for this before sending the body.
    String expect = req.getHeader(HttpHeaderNames.EXPECT);
    if (expect != null && expect.equalsIgnoreCase("100-continue")) {
      req.response().writeContinue();
    }
  }

  private static boolean tooLong(String contentLength) {
    try {
      return Long.parseLong(contentLength) > BODY_LIMIT;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** Collects one request body up to {@link #BODY_LIMIT}, then predicts. Event-loop only. */
  private final class Body implements Handler<Buffer> {
    private final HttpServerRequest req;
    private final int kind;
    private Buffer body;
    private boolean refused;

    Body(HttpServerRequest req, int kind) {
      this.req = req;
      this.kind = kind;
      req.endHandler(this::end);
      // A client that hangs up mid-body is not an error worth a log line.
      req.exceptionHandler(IGNORE);
    }

    @Override
    public void handle(Buffer chunk) {
      if (refused) {
        return;
      }
      body = body == null ? chunk : body.appendBuffer(chunk);
      if (body.length() > BODY_LIMIT) {
        refused = true;
        tooLarge(req);
      }
    }

    private void end(Void ignored) {
      if (!refused) {
        answer(req, kind, body == null ? new byte[0] : body.getBytes());
      }
    }
  }

  private void answer(HttpServerRequest req, int kind, byte[] body) {
    IrisModel model = state.readyModel();
    try {
      Buffer out = kind == PREDICT
          ? responses.predict(model, InferenceRequests.predict(body))
          : responses.infer(model, InferenceRequests.infer(body));
      send(req, 200, out);
    } catch (BadInputException e) {
      send(req, e.status(), InferenceResponses.error(e.getMessage()));
    } catch (RuntimeException e) {
      LOG.error("prediction failed on {}", req.path(), e);
      send(req, 500, InferenceResponses.error("internal error; the request was not processed"));
    }
  }

  private void booting(HttpServerRequest req) {
    long seconds = state.retryAfterSeconds();
    req.response().putHeader(RETRY_AFTER, Long.toString(seconds));
    send(req, 503, InferenceResponses.error("model " + IrisModel.NAME + " is still booting; retry in about "
        + seconds + (seconds == 1 ? " second" : " seconds")));
  }

  private void tooLarge(HttpServerRequest req) {
    // The rest of the body is not read: close the connection (Vert.x alone would wait for the request's end).
    HttpServerResponse response = req.response();
    response.setStatusCode(413);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, APPLICATION_JSON).set(HttpHeaderNames.CONNECTION, CLOSE);
    response.end(InferenceResponses.error("the body is larger than " + BODY_LIMIT + " bytes"))
        .onComplete(done -> req.connection().close());
  }

  private void notFound(HttpServerRequest req, String path) {
    if (path.startsWith(MODELS)) {
      int end = path.indexOf('/', MODELS.length());
      String name = path.substring(MODELS.length(), end < 0 ? path.length() : end);
      if (!name.equals(IrisModel.NAME)) {
        send(req, 404, InferenceResponses.error("model \"" + clip(name) + "\" is not served here; this server "
            + "serves model \"" + IrisModel.NAME + "\""));
        return;
      }
      if (path.startsWith(MODEL + "/versions/") && !path.startsWith(MODEL_VERSION + "/")
          && !path.equals(MODEL_VERSION)) {
        send(req, 404, InferenceResponses.error("model " + IrisModel.NAME + " has only version "
            + IrisModel.VERSION));
        return;
      }
    }
    send(req, 404, InferenceResponses.error("no endpoint at " + clip(path) + "; try POST /predict or "
        + "POST " + MODEL + "/infer"));
  }

  private static String clip(String s) {
    return s.length() > 100 ? s.substring(0, 100) + "..." : s;
  }

  private static void send(HttpServerRequest req, int status, Buffer body) {
    HttpServerResponse response = req.response();
    response.setStatusCode(status);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, APPLICATION_JSON);
    response.end(body);
  }

  private static JsonObject tensor(String name, String datatype, int... shape) {
    JsonArray dims = new JsonArray();
    for (int d : shape) {
      dims.add(d);
    }
    return new JsonObject().put("name", name).put("datatype", datatype).put("shape", dims);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
