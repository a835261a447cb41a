package io.flowgate.flow.nodes;

import io.flowgate.flow.FlowValidationException;
import io.flowgate.flow.Node;
import io.flowgate.flow.NodeServices;
import io.flowgate.flow.NodeType;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code http_request}: one HTTP call through the shared pooled client. Config: {@code method} (default GET),
 * {@code url} (required), {@code headers} (object of strings), {@code body} (any JSON), {@code timeout_ms}; any
 * string starting with {@code =} is a JSONata expression over the node's input with {@code $input}/{@code $nodes}
 * bound ({@code ==} escapes a literal {@code =}). Output {@code {"status", "headers", "body"}}: the body parsed
 * when the response is JSON, else a string. A non-2xx status is an output, not a failure; connection errors,
 * timeouts and oversized responses fail the node. Thread-safe.
 */
final class HttpRequestNodeType implements NodeType {

  static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
  private static final Set<String> FIELDS = Set.of("method", "url", "headers", "body", "timeout_ms");

  @Override
  public String type() {
    return "http_request";
  }

  @Override
  public Node create(String nodeId, JsonObject config, NodeServices services) throws FlowValidationException {
    Configs.allowOnly(nodeId, config, FIELDS);
    if (services.http() == null) {
      throw Configs.error(nodeId, "http_request needs an HTTP client, but none is configured");
    }
    String method = Configs.optionalString(nodeId, config, "method");
    if (method == null || method.isBlank()) {
      method = "GET";
    }
    if (!method.startsWith("=")) {
      method = method.toUpperCase(Locale.ROOT);
      if (!METHODS.contains(method)) {
        throw Configs.error(nodeId, "unsupported \"method\" '" + method + "' (use one of "
            + String.join(", ", METHODS.stream().sorted().toList()) + ")");
      }
    }
    String url = Configs.requiredString(nodeId, config, "url");
    if (!url.startsWith("=")) {
      String problem = urlProblem(url.startsWith("==") ? url.substring(1) : url);
      if (problem != null) {
        throw Configs.error(nodeId, "invalid \"url\": " + problem);
      }
    }
    Object headers = config.getValue("headers");
    Map<String, Template> headerTemplates = new LinkedHashMap<>();
    if (headers != null) {
      if (!(headers instanceof JsonObject h)) {
        throw Configs.error(nodeId, "\"headers\" must be an object of header names to strings");
      }
      for (Map.Entry<String, Object> e : h) {
        if (e.getKey().isBlank() || !(e.getValue() instanceof String || e.getValue() instanceof Number
            || e.getValue() instanceof Boolean)) {
          throw Configs.error(nodeId, "header \"" + e.getKey() + "\" must have a string value");
        }
        Object value = e.getValue() instanceof String ? e.getValue() : String.valueOf(e.getValue());
        headerTemplates.put(e.getKey(),
            Template.compile(nodeId, "headers." + e.getKey(), value, services.limits()));
      }
    }
    long timeoutMs = config.getValue("timeout_ms") == null
        ? services.limits().httpDefaultTimeout().toMillis()
        : Configs.nonNegativeInteger(nodeId, config, "timeout_ms", null);
    if (timeoutMs < 1) {
      throw Configs.error(nodeId, "\"timeout_ms\" must be a positive integer");
    }
    Template body = config.containsKey("body")
        ? Template.compile(nodeId, "body", config.getValue("body"), services.limits())
        : null;
    return new HttpRequestNode(services.http(), Template.compile(nodeId, "method", method, services.limits()),
        Template.compile(nodeId, "url", url, services.limits()), headerTemplates, body, timeoutMs,
        services.limits().httpMaxResponseBytes());
  }

  /** Why {@code url} is not an absolute http(s) URL, or null when it is one. */
  static String urlProblem(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (Exception e) {
      return "'" + url + "' is not a URL";
    }
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
      return "'" + url + "' must be an absolute http:// or https:// URL";
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      return "'" + url + "' has no host";
    }
    return null;
  }
}
