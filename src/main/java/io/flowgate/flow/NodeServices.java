package io.flowgate.flow;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import java.util.Objects;

/**
 * What node types may use: the Vert.x instance, one shared pooled HTTP client for {@code http_request} nodes (may be
 * null when no flow needs it) and the {@link FlowLimits} (null means {@link FlowLimits#defaults()}). Built once
 * per process by the caller; usable on any thread.
 */
public record NodeServices(Vertx vertx, HttpClientAgent http, FlowLimits limits) {

  public NodeServices {
    Objects.requireNonNull(vertx, "vertx");
    limits = limits == null ? FlowLimits.defaults() : limits;
  }
}
