import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;

/**
 * The baseline of bench/run.sh (scenario sync): a bare Vert.x 5 HTTP server answering {@code GET|POST /hello} with a
 * small JSON body, one verticle instance per core (flowgate's default), native epoll preferred, same server options as
 * the gateway (TCP_NODELAY, SO_REUSEPORT). A POST body is read whole before answering, like the gateway does.
 *
 * <p>Single-file source program, no build step: {@code java -cp target/flowgate.jar bench/Hello.java --port N
 * [--host 127.0.0.1] [--instances N]}. Prints {@code hello ready at http://host:port/hello (...)} once listening.
 */
public final class Hello {
  private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
  private static final Buffer BODY = Buffer.buffer("{\"status\":\"success\",\"data\":{\"greeting\":\"Hello, Ada!\"}}");
  private static final CharSequence LENGTH = HttpHeaders.createOptimized(String.valueOf(BODY.length()));

  public static void main(String[] args) {
    String host = "127.0.0.1";
    int port = 0;
    int instances = Runtime.getRuntime().availableProcessors();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if ((a.equals("--port") || a.equals("--host") || a.equals("--instances")) && i + 1 < args.length) {
        String v = args[++i];
        switch (a) {
          case "--port" -> port = Integer.parseInt(v);
          case "--host" -> host = v;
          default -> instances = Integer.parseInt(v);
        }
      } else {
        System.err.println("usage: java -cp target/flowgate.jar bench/Hello.java --port N [--host H] "
            + "[--instances N]; unknown or incomplete option: " + a);
        System.exit(2);
      }
    }
    Vertx vertx = Vertx.builder().with(new VertxOptions().setPreferNativeTransport(true)).build();
    HttpServerOptions options = new HttpServerOptions().setHost(host).setPort(port)
        .setTcpNoDelay(true).setReusePort(true);
    String h = host;
    int n = instances;
    vertx.deployVerticle(() -> new HelloVerticle(options), new DeploymentOptions().setInstances(instances))
        .onSuccess(id -> System.out.println("hello ready at http://" + h + ":" + options.getPort() + "/hello ("
            + n + " instances, native transport " + vertx.isNativeTransportEnabled() + ")"))
        .onFailure(e -> {
          System.err.println("hello failed to start: " + e);
          System.exit(1);
        });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> vertx.close().await()));
  }

  static final class HelloVerticle extends VerticleBase {
    private final HttpServerOptions options;

    HelloVerticle(HttpServerOptions options) {
      this.options = options;
    }

    @Override
    public Future<?> start() {
      return vertx.createHttpServer(options).requestHandler(HelloVerticle::handle).listen();
    }

    private static void handle(HttpServerRequest req) {
      boolean hello = req.path().equals("/hello");
      if (hello && req.method() == HttpMethod.GET) {
        answer(req);
      } else if (hello && req.method() == HttpMethod.POST) {
        req.body().onSuccess(b -> answer(req)).onFailure(e -> req.response().setStatusCode(400).end());
      } else {
        req.response().setStatusCode(hello ? 405 : 404).end();
      }
    }

    private static void answer(HttpServerRequest req) {
      req.response()
          .putHeader(HttpHeaders.CONTENT_TYPE, JSON)
          .putHeader(HttpHeaders.CONTENT_LENGTH, LENGTH)
          .end(BODY);
    }
  }
}
