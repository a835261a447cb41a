package io.flowgate.flow.nodes;

import io.flowgate.flow.Node;
import io.flowgate.flow.NodeContext;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A compiled {@code http_request} node (see {@link HttpRequestNodeType}). Immutable and thread-safe. */
final class HttpRequestNode implements Node {

  private final HttpClientAgent http;
  private final Template method;
  private final Template url;
  private final Map<String, Template> headers;
  private final Template body;
  private final long timeoutMs;
  private final int maxResponseBytes;

  HttpRequestNode(HttpClientAgent http, Template method, Template url, Map<String, Template> headers,
      Template body, long timeoutMs, int maxResponseBytes) {
    this.http = http;
    this.method = method;
    this.url = url;
    this.headers = headers;
    this.body = body;
    this.timeoutMs = timeoutMs;
    this.maxResponseBytes = maxResponseBytes;
  }

  @Override
  public Future<Object> execute(NodeContext ctx) {
    String m = text(method.render(ctx), "method").toUpperCase(Locale.ROOT);
    if (!HttpRequestNodeType.METHODS.contains(m)) {
      return Future.failedFuture("unsupported HTTP method '" + m + "'");
    }
    String u = text(url.render(ctx), "url");
    String problem = HttpRequestNodeType.urlProblem(u);
    if (problem != null) {
      return Future.failedFuture("invalid url: " + problem);
    }
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.valueOf(m))
        .setAbsoluteURI(u)
        .setConnectTimeout(timeoutMs);
    for (Map.Entry<String, Template> h : headers.entrySet()) {
      options.putHeader(h.getKey(), text(h.getValue().render(ctx), "header " + h.getKey()));
    }
    Buffer payload = null;
    if (body != null) {
      Object value = body.render(ctx);
      if (value instanceof String s) {
        payload = Buffer.buffer(s);
        defaultHeader(options, "content-type", "text/plain; charset=utf-8");
      } else if (value != null) {
        payload = Json.encodeToBuffer(value);
        defaultHeader(options, "content-type", "application/json");
      }
    }
    return new Exchange(ctx, options, payload, m + " " + redacted(u)).start();
  }

  private static String text(Object value, String what) {
    if (value instanceof String s) {
      return s;
    }
    if (value instanceof Number || value instanceof Boolean) {
      return String.valueOf(value);
    }
    throw new IllegalArgumentException(what + " must be a string, got "
        + (value == null ? "nothing" : value instanceof Map ? "an object" : value instanceof List ? "an array"
        : value.getClass().getSimpleName()));
  }

  private static void defaultHeader(RequestOptions options, String name, String value) {
    if (options.getHeaders() == null || !options.getHeaders().contains(name)) {
      options.putHeader(name, value);
    }
  }

  /** The URL without user info, query or fragment: errors must not leak tokens carried there. */
  private static String redacted(String url) {
    try {
      URI uri = new URI(url);
      return new URI(uri.getScheme(), null, uri.getHost(), uri.getPort(), uri.getPath(), null, null).toString();
    } catch (Exception e) {
      return "(invalid url)";
    }
  }

  /** One request/response exchange under one deadline. Confined to the run's context. */
  private final class Exchange {
    private final NodeContext ctx;
    private final RequestOptions options;
    private final Buffer payload;
    private final String label;
    private final Promise<Object> promise = Promise.promise();
    private final Vertx vertx;
    private long timer = -1;
    private HttpClientRequest request;
    private Buffer received;

    Exchange(NodeContext ctx, RequestOptions options, Buffer payload, String label) {
      this.ctx = ctx;
      this.options = options;
      this.payload = payload;
      this.label = label;
      this.vertx = ctx.vertx();
    }

    Future<Object> start() {
      timer = vertx.setTimer(timeoutMs, id -> fail(label + " timed out after " + timeoutMs + " ms"));
      ctx.onCancel(() -> fail(label + " cancelled: " + ctx.control().reason()));
      http.request(options).onComplete(ar -> {
        if (ar.failed()) {
          fail(label + " failed: " + messageOf(ar.cause()));
          return;
        }
        request = ar.result();
        if (promise.future().isComplete()) {
          request.reset();
          return;
        }
        Future<HttpClientResponse> sent = payload == null ? request.send() : request.send(payload);
        sent.onComplete(r -> {
          if (r.failed()) {
            fail(label + " failed: " + messageOf(r.cause()));
          } else {
            onResponse(r.result());
          }
        });
      });
      return promise.future();
    }

    private void onResponse(HttpClientResponse response) {
      if (promise.future().isComplete()) {
        return;
      }
      String length = response.getHeader("content-length");
      if (length != null) {
        try {
          if (Long.parseLong(length.trim()) > maxResponseBytes) {
            fail(label + " failed: response body of " + length.trim() + " bytes exceeds the limit of "
                + maxResponseBytes + " bytes");
            return;
          }
        } catch (NumberFormatException ignored) {
          // A malformed length is left to the streaming check below.
        }
      }
      received = Buffer.buffer();
      response.handler(chunk -> {
        if (promise.future().isComplete()) {
          return;
        }
        if (received.length() + chunk.length() > maxResponseBytes) {
          fail(label + " failed: response body exceeds the limit of " + maxResponseBytes + " bytes");
        } else {
          received.appendBuffer(chunk);
        }
      });
      response.exceptionHandler(t -> fail(label + " failed while reading the response: " + messageOf(t)));
      response.endHandler(v -> complete(response));
    }

    private void complete(HttpClientResponse response) {
      if (promise.future().isComplete()) {
        return;
      }
      vertx.cancelTimer(timer);
      Map<String, Object> headerMap = new LinkedHashMap<>();
      for (String name : response.headers().names()) {
        List<String> values = response.headers().getAll(name);
        headerMap.put(name.toLowerCase(Locale.ROOT), values.size() == 1 ? values.get(0) : String.join(", ", values));
      }
      Map<String, Object> out = new LinkedHashMap<>(8);
      out.put("status", response.statusCode());
      out.put("headers", headerMap);
      out.put("body", parseBody(response.getHeader("content-type"), received));
      promise.tryComplete(out);
    }

    private void fail(String message) {
      if (!promise.tryFail(message)) {
        return;
      }
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
      if (request != null) {
        // Resetting closes the HTTP/1.1 connection (or the HTTP/2 stream): the server stops working for us.
        request.reset();
      }
    }
  }

  private static Object parseBody(String contentType, Buffer buffer) {
    if (buffer == null || buffer.length() == 0) {
      return null;
    }
    if (contentType != null && contentType.toLowerCase(Locale.ROOT).contains("json")) {
      try {
        return Json.decodeValue(buffer);
      } catch (DecodeException e) {
        // A server that says JSON but sends something else: hand over the text.
      }
    }
    return buffer.toString(StandardCharsets.UTF_8);
  }

  private static String messageOf(Throwable t) {
    String message = t.getMessage();
    return message == null || message.isBlank() ? t.getClass().getSimpleName() : message;
  }
}
