package io.flowgate.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.Main;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.observability.HttpRequest;
import io.vertx.core.spi.observability.HttpResponse;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.MicrometerMetricsFactory;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HttpServerMetersTest {

  /**
   * The same requests through vertx-micrometer's HTTP server metrics and through flowgate's: the same series (names,
   * labels) with the same counts. Fails when a vertx-micrometer upgrade changes what it writes.
   */
  @Test
  void writes_the_series_vertx_micrometer_writes_with_the_same_counts() {
    PrometheusMeterRegistry theirs = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    PrometheusMeterRegistry ours = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx reference = Vertx.builder().with(new VertxOptions().setMetricsOptions(Main.metricsOptions()))
        .withMetrics(new MicrometerMetricsFactory(theirs)).build();
    Vertx flowgate = Main.newVertx(ours);
    Vertx client = Vertx.vertx();
    try {
      exercise(reference, client);
      exercise(flowgate, client);
      Set<String> expected = series(theirs.scrape());
      assertThat(expected).anyMatch(s -> s.startsWith("vertx_http_server_requests_total{code=\"404\""))
          .anyMatch(s -> s.contains("route=\"/api/v1/>/api/v1/>/deployments\""));
      assertThat(series(ours.scrape())).isEqualTo(expected);
      assertThat(counts(ours.scrape())).isEqualTo(counts(theirs.scrape()));
    } finally {
      client.close().await();
      reference.close().await();
      flowgate.close().await();
    }
  }

  @Test
  void a_request_is_active_until_it_and_its_response_have_ended_or_it_is_reset() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    HttpServerMeters meters = new HttpServerMeters(registry);
    HttpServerMeters.Request first = meters.requestBegin(null, request(HttpMethod.POST));
    assertThat(active(registry, "POST")).isEqualTo(1);
    meters.requestRouted(first, "/a/");
    meters.requestRouted(first, "/b");
    meters.responseEnd(first, response(200), 10);
    assertThat(active(registry, "POST")).isEqualTo(1); // the request body is still arriving
    meters.requestEnd(first, request(HttpMethod.POST), 5);
    assertThat(active(registry, "POST")).isZero();
    assertThat(registry.get("vertx.http.server.requests").tags("route", "/a/>/b", "code", "200", "method", "POST")
        .counter().count()).isEqualTo(1);
    assertThat(registry.get("vertx.http.server.response.bytes").tags("route", "/a/>/b").summary().totalAmount())
        .isEqualTo(10);

    HttpServerMeters.Request reset = meters.requestBegin(null, request(HttpMethod.POST));
    assertThat(registry.find("vertx.http.server.request.resets").counter()).isNull();
    meters.requestReset(reset);
    meters.requestEnd(reset, request(HttpMethod.POST), 0);
    meters.responseEnd(reset, response(500), 0);
    assertThat(active(registry, "POST")).isZero();
    assertThat(registry.get("vertx.http.server.request.resets").tags("method", "POST").counter().count())
        .isEqualTo(1);

    assertThat(registry.find("vertx.http.server.errors").counter()).isNull();
    meters.exceptionOccurred(meters.connected(null, null), null, new IllegalStateException("x"));
    assertThat(registry.get("vertx.http.server.errors").counter().count()).isEqualTo(1);
    assertThat(registry.get("vertx.http.server.active.connections").gauge().value()).isEqualTo(1);
  }

  private static void exercise(Vertx vertx, Vertx clientVertx) {
    Router router = Router.router(vertx);
    Router api = Router.router(vertx);
    api.get("/deployments").handler(rc -> rc.response().end("[]"));
    api.post("/deployments").handler(rc -> rc.response().setStatusCode(201).end("{}"));
    router.route("/api/v1/*").handler(rc -> rc.next());
    router.route("/api/v1/*").subRouter(api);
    router.get("/health/ready").handler(rc -> rc.response().end("ok"));
    router.post("/node/deployment-trigger/:deployment_id").handler(rc -> rc.request().body()
        .onSuccess(b -> rc.response().end(b)));
    HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").await();
    HttpClient client = clientVertx.createHttpClient();
    try {
      for (int i = 0; i < 2; i++) {
        send(client, server.actualPort(), HttpMethod.GET, "/health/ready", null);
        send(client, server.actualPort(), HttpMethod.GET, "/nope", null);
        send(client, server.actualPort(), HttpMethod.POST, "/node/deployment-trigger/d1", "{\"input_data\":{}}");
        send(client, server.actualPort(), HttpMethod.GET, "/api/v1/deployments", null);
        send(client, server.actualPort(), HttpMethod.POST, "/api/v1/deployments", "{}");
      }
    } finally {
      client.close().await();
      server.close().await();
    }
  }

  private static void send(HttpClient client, int port, HttpMethod method, String uri, String body) {
    client.request(method, port, "127.0.0.1", uri)
        .compose(req -> body == null ? req.send() : req.send(Buffer.buffer(body)))
        .compose(res -> res.body())
        .await();
  }

  /** The HTTP server's series, without values or the lines that only describe them. */
  private static Set<String> series(String scrape) {
    Set<String> out = new TreeSet<>();
    for (String line : scrape.split("\n")) {
      if (line.startsWith("vertx_http_server")) {
        out.add(line.substring(0, line.lastIndexOf(' ')));
      } else if (line.startsWith("# TYPE vertx_http_server")) {
        out.add(line);
      }
    }
    return out;
  }

  /** The counts: request totals and summary counts (not times, not active gauges sampled at different moments). */
  private static Set<String> counts(String scrape) {
    Set<String> out = new TreeSet<>();
    for (String line : scrape.split("\n")) {
      if (line.startsWith("vertx_http_server_requests_total") || line.startsWith("vertx_http_server_")
          && line.contains("_count{") || line.startsWith("vertx_http_server_request_bytes_sum")
          || line.startsWith("vertx_http_server_response_bytes_sum")) {
        out.add(line);
      }
    }
    return out;
  }

  private static double active(SimpleMeterRegistry registry, String method) {
    return registry.get("vertx.http.server.active.requests").tags("method", method).gauge().value();
  }

  private static HttpRequest request(HttpMethod method) {
    return new HttpRequest() {
      @Override
      public int id() {
        return 1;
      }

      @Override
      public String uri() {
        return "/";
      }

      @Override
      public String absoluteURI() {
        return "http://127.0.0.1/";
      }

      @Override
      public HttpMethod method() {
        return method;
      }

      @Override
      public MultiMap headers() {
        return MultiMap.caseInsensitiveMultiMap();
      }

      @Override
      public SocketAddress remoteAddress() {
        return SocketAddress.inetSocketAddress(1, "127.0.0.1");
      }
    };
  }

  private static HttpResponse response(int status) {
    return new HttpResponse() {
      @Override
      public int statusCode() {
        return status;
      }

      @Override
      public MultiMap headers() {
        return MultiMap.caseInsensitiveMultiMap();
      }
    };
  }
}
