package io.flowgate.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Vertx;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.metrics.ClientMetrics;
import io.vertx.core.spi.metrics.DatagramSocketMetrics;
import io.vertx.core.spi.metrics.EventBusMetrics;
import io.vertx.core.spi.metrics.HttpClientMetrics;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.metrics.PoolMetrics;
import io.vertx.core.spi.metrics.TCPMetrics;
import io.vertx.core.spi.metrics.VertxMetrics;
import io.vertx.core.spi.observability.HttpRequest;
import io.vertx.core.spi.observability.HttpResponse;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The HTTP server's meters, the same series vertx-micrometer (5.0) writes with the labels {@code method},
 * {@code code} and {@code route} (README, Metrics), at a fraction of the cost per request.
 *
 * <p>vertx-micrometer builds {@code Tags} and looks up five meters in the registry for every request (the active
 * requests gauge, request bytes, then requests, response time and response bytes): ~9% of the JVM's CPU per sync
 * trigger (bench/RESULTS.md). Here the meters of one (route, method, code) are looked up once and kept together, and
 * those of a method in a small map: one map lookup per request and one per response.
 *
 * <p>Series, as vertx-micrometer writes them: {@code vertx_http_server_requests_total}, the summaries
 * {@code vertx_http_server_response_time_seconds} and {@code vertx_http_server_response_bytes} by code, method and
 * route (the routed patterns joined with {@code >}, {@code ""} when none matched); the gauge
 * {@code vertx_http_server_active_requests}, the summary {@code vertx_http_server_request_bytes} and
 * {@code vertx_http_server_request_resets_total} by method; unlabelled, {@code vertx_http_server_active_connections},
 * {@code vertx_http_server_bytes_read_total}, {@code vertx_http_server_bytes_written_total},
 * {@code vertx_http_server_errors_total} and {@code vertx_http_server_active_ws_connections}. A request stops being
 * active when both it and its response have ended, or when it is reset. Thread-safe.
 */
public final class HttpServerMeters implements HttpServerMetrics<HttpServerMeters.Request, LongAdder, Object> {
  private static final String PREFIX = "vertx.http.server.";
  private static final Object SOCKET = new Object();

  private final MeterRegistry registry;
  private final LongAdder connections = new LongAdder();
  private final Counter bytesRead;
  private final Counter bytesWritten;
  private final LongAdder webSockets = new LongAdder();
  private final ConcurrentHashMap<String, ByMethod> byMethod = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Key, ByResponse> byResponse = new ConcurrentHashMap<>();

  public HttpServerMeters(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder(PREFIX + "active.connections", connections, LongAdder::doubleValue)
        .description("Number of opened connections to the server").register(registry);
    bytesRead = Counter.builder(PREFIX + "bytes.read").description("Number of bytes received by the server")
        .register(registry);
    bytesWritten = Counter.builder(PREFIX + "bytes.written").description("Number of bytes sent by the server")
        .register(registry);
  }

  /**
   * {@code delegate} (vertx-micrometer's) for everything but the HTTP servers, whose meters are these: what
   * {@code Vertx.builder().withMetrics(...)} is given.
   */
  public static VertxMetrics replacingHttpServer(VertxMetrics delegate, MeterRegistry registry) {
    HttpServerMeters meters = new HttpServerMeters(registry);
    return new VertxMetrics() {
      @Override
      public EventBusMetrics<?> createEventBusMetrics() {
        return delegate.createEventBusMetrics();
      }

      @Override
      public HttpServerMetrics<?, ?, ?> createHttpServerMetrics(HttpServerOptions options,
          SocketAddress localAddress) {
        return meters;
      }

      @Override
      public ClientMetrics<?, ?, ?> createClientMetrics(SocketAddress remoteAddress,
          String type, String namespace) {
        return delegate.createClientMetrics(remoteAddress, type, namespace);
      }

      @Override
      public HttpClientMetrics<?, ?, ?> createHttpClientMetrics(
          HttpClientOptions options) {
        return delegate.createHttpClientMetrics(options);
      }

      @Override
      public TCPMetrics<?> createNetServerMetrics(NetServerOptions options,
          SocketAddress localAddress) {
        return delegate.createNetServerMetrics(options, localAddress);
      }

      @Override
      public TCPMetrics<?> createNetClientMetrics(NetClientOptions options) {
        return delegate.createNetClientMetrics(options);
      }

      @Override
      public DatagramSocketMetrics createDatagramSocketMetrics(
          DatagramSocketOptions options) {
        return delegate.createDatagramSocketMetrics(options);
      }

      @Override
      public PoolMetrics<?, ?> createPoolMetrics(String poolType, String poolName,
          int maxPoolSize) {
        return delegate.createPoolMetrics(poolType, poolName, maxPoolSize);
      }

      @Override
      public void vertxCreated(Vertx vertx) {
        delegate.vertxCreated(vertx);
      }

      @Override
      public boolean isMetricsEnabled() {
        return delegate.isMetricsEnabled();
      }

      @Override
      public void close() {
        delegate.close();
      }
    };
  }

  @Override
  public Object connected(SocketAddress remoteAddress, String remoteName) {
    connections.increment();
    return SOCKET;
  }

  @Override
  public void disconnected(Object socket, SocketAddress remoteAddress) {
    connections.decrement();
  }

  @Override
  public void bytesRead(Object socket, SocketAddress remoteAddress, long numberOfBytes) {
    bytesRead.increment(numberOfBytes);
  }

  @Override
  public void bytesWritten(Object socket, SocketAddress remoteAddress, long numberOfBytes) {
    bytesWritten.increment(numberOfBytes);
  }

  @Override
  public void exceptionOccurred(Object socket, SocketAddress remoteAddress, Throwable t) {
    // Registered when first needed, as vertx-micrometer does: no series until it happens (rare, off the hot path).
    Counter.builder(PREFIX + "errors").description("Number of errors").register(registry).increment();
  }

  @Override
  public Request requestBegin(Object socket, HttpRequest request) {
    return begin(request.method().name());
  }

  @Override
  public Request responsePushed(Object socket, HttpMethod method, String uri, HttpResponse response) {
    return begin(method.name());
  }

  private Request begin(String method) {
    ByMethod m = byMethod.get(method);
    if (m == null) {
      m = byMethod.computeIfAbsent(method, this::newByMethod);
    }
    m.active.increment();
    return new Request(m, System.nanoTime());
  }

  @Override
  public void requestRouted(Request request, String route) {
    if (route == null) {
      return;
    }
    request.route = request.route == null ? route : request.route + ">" + route;
  }

  @Override
  public void requestEnd(Request request, HttpRequest httpRequest, long bytesRead) {
    request.method.requestBytes.record(bytesRead);
    request.requestEnded = true;
    if (!request.reset && request.responseEnded) {
      request.method.active.decrement();
    }
  }

  @Override
  public void requestReset(Request request) {
    Counter.builder(PREFIX + "request.resets").description("Number of request resets")
        .tags("method", request.method.name).register(registry).increment();
    request.method.active.decrement();
    request.reset = true;
  }

  @Override
  public void responseEnd(Request request, HttpResponse response, long bytesWritten) {
    String route = request.route == null ? "" : request.route;
    Key key = new Key(route, request.method.name, response.statusCode());
    // get first: computeIfAbsent may lock the bin even when the key is there, and this runs for every response.
    ByResponse meters = byResponse.get(key);
    if (meters == null) {
      meters = byResponse.computeIfAbsent(key, this::newByResponse);
    }
    meters.requests.increment();
    meters.time.record(System.nanoTime() - request.startNanos, TimeUnit.NANOSECONDS);
    meters.bytes.record(bytesWritten);
    request.responseEnded = true;
    if (!request.reset && request.requestEnded) {
      request.method.active.decrement();
    }
  }

  @Override
  public LongAdder connected(Object socket, Request request, ServerWebSocket webSocket) {
    Gauge.builder(PREFIX + "active.ws.connections", webSockets, LongAdder::doubleValue)
        .description("Number of websockets currently opened").register(registry);
    webSockets.increment();
    return webSockets;
  }

  @Override
  public void disconnected(LongAdder webSocket) {
    webSocket.decrement();
  }

  private ByMethod newByMethod(String method) {
    Tags tags = Tags.of("method", method);
    LongAdder active = new LongAdder();
    Gauge.builder(PREFIX + "active.requests", active, LongAdder::doubleValue)
        .description("Number of requests being processed").tags(tags).register(registry);
    return new ByMethod(method, active,
        DistributionSummary.builder(PREFIX + "request.bytes").description("Size of requests in bytes").tags(tags)
            .register(registry));
  }

  private ByResponse newByResponse(Key key) {
    Tags tags = Tags.of("code", Integer.toString(key.code()), "method", key.method(), "route", key.route());
    return new ByResponse(
        Counter.builder(PREFIX + "requests").description("Number of processed requests").tags(tags)
            .register(registry),
        Timer.builder(PREFIX + "response.time").description("Request processing time").tags(tags)
            .register(registry),
        DistributionSummary.builder(PREFIX + "response.bytes").description("Size of responses in bytes").tags(tags)
            .register(registry));
  }

  private record ByMethod(String name, LongAdder active, DistributionSummary requestBytes) {}

  private record Key(String route, String method, int code) {}

  private record ByResponse(Counter requests, Timer time, DistributionSummary bytes) {}

  /** One request in flight; used by the connection's event loop only. */
  public static final class Request {
    private final ByMethod method;
    private final long startNanos;
    private String route;
    private boolean requestEnded;
    private boolean responseEnded;
    private boolean reset;

    private Request(ByMethod method, long startNanos) {
      this.method = method;
      this.startNanos = startNanos;
    }
  }
}
