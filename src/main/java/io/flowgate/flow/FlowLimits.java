package io.flowgate.flow;

import java.time.Duration;
import java.util.Objects;

/**
 * Bounds the flow engine puts on user code: each JSONata evaluation's time and recursion depth, the default
 * deadline of an {@code http_request} node and the largest response body it reads. A value; usable on any thread.
 */
public record FlowLimits(Duration expressionTimeout, int expressionMaxDepth, Duration httpDefaultTimeout,
    int httpMaxResponseBytes) {

  public FlowLimits {
    Objects.requireNonNull(expressionTimeout, "expressionTimeout");
    Objects.requireNonNull(httpDefaultTimeout, "httpDefaultTimeout");
    if (expressionTimeout.toMillis() < 1 || httpDefaultTimeout.toMillis() < 1) {
      throw new IllegalArgumentException("flow timeouts must be at least 1 ms");
    }
    if (expressionMaxDepth < 1 || httpMaxResponseBytes < 1) {
      throw new IllegalArgumentException("expressionMaxDepth and httpMaxResponseBytes must be positive");
    }
  }

  /**
   * 500 ms and depth 200 per expression (expressions run on the event loop, so a runaway one must stop well before
   * Vert.x's blocked-thread warning; depth 200 stays clear of a 1 MiB thread stack), 30 s per HTTP request and
   * 10 MiB per response body.
   */
  public static FlowLimits defaults() {
    return new FlowLimits(Duration.ofMillis(500), 200, Duration.ofSeconds(30), 10 * 1024 * 1024);
  }
}
