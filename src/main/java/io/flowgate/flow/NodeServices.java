package io.flowgate.flow;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What node types may use: the Vert.x instance, one shared pooled HTTP client for {@code http_request} nodes (may be
 * null when no flow needs it), the {@link FlowLimits} (null means {@link FlowLimits#defaults()}) and further
 * services looked up by type ({@link #service}), so that a node type from another package (e.g. {@code inference})
 * reaches its runtime without {@code flow} knowing of it. Built once per process by the caller; immutable and usable
 * on any thread.
 */
public record NodeServices(Vertx vertx, HttpClientAgent http, FlowLimits limits, Map<Class<?>, Object> byType) {

  /** Each service must be an instance of its key; the map is copied. */
  public NodeServices {
    Objects.requireNonNull(vertx, "vertx");
    limits = limits == null ? FlowLimits.defaults() : limits;
    byType = byType == null ? Map.of() : Map.copyOf(byType);
    for (Map.Entry<Class<?>, Object> e : byType.entrySet()) {
      if (!e.getKey().isInstance(e.getValue())) {
        throw new IllegalArgumentException("service " + e.getValue().getClass().getName() + " is not a "
            + e.getKey().getName());
      }
    }
  }

  /** Services with no typed services. */
  public NodeServices(Vertx vertx, HttpClientAgent http, FlowLimits limits) {
    this(vertx, http, limits, Map.of());
  }

  /** The service registered under {@code type}, or null when there is none. */
  public <T> T service(Class<T> type) {
    return type.cast(byType.get(type));
  }

  /** A copy with {@code service} registered under {@code type} (replacing any previous one). */
  public <T> NodeServices with(Class<T> type, T service) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(service, "service");
    Map<Class<?>, Object> more = new HashMap<>(byType);
    more.put(type, service);
    return new NodeServices(vertx, http, limits, more);
  }
}
