package io.flowgate.inference;

/**
 * Why one exchange with a replica failed, as the breaker's failure policy and the answer mapping need it. Cheap: no
 * stack trace. Immutable; any thread.
 */
final class UpstreamFailure extends RuntimeException {
  /** What went wrong. */
  enum Kind {
    /** No connection could be made (refused, connect timeout): the request was never sent, so it may be retried. */
    CONNECT(true),
    /** The replica's connection pool and its wait queue are full: a local bound, not the replica's fault. */
    POOL_BUSY(false),
    /** No complete answer within the server's timeout. */
    TIMEOUT(true),
    /** The replica said 503 (booting or loading a model): not a fault, and not counted by the breaker. */
    BOOTING(false),
    /** A 5xx other than 503. */
    STATUS_5XX(true),
    /** A 4xx: the replica refused this input; the replica is healthy. */
    STATUS_4XX(false),
    /**
     * The connection closed before any of the answer arrived (typically a kept-alive connection the replica had just
     * closed): retried once on another replica within the retry budget, as predictions are taken to be idempotent.
     */
    CLOSED(true),
    /** The connection broke in the middle of the answer. */
    RESET(true),
    /** The answer is not JSON (or not the protocol's shape). */
    NOT_JSON(true),
    /** The answer is larger than the configured cap. */
    TOO_LARGE(true);

    private final boolean breakerFailure;

    Kind(boolean breakerFailure) {
      this.breakerFailure = breakerFailure;
    }
  }

  private final Kind kind;
  private final int status;

  UpstreamFailure(Kind kind, String message) {
    this(kind, 0, message);
  }

  UpstreamFailure(Kind kind, int status, String message) {
    super(message, null, false, false);
    this.kind = kind;
    this.status = status;
  }

  Kind kind() {
    return kind;
  }

  int status() {
    return status;
  }

  /** Whether the breaker counts this as a replica failure (a booting 503, a 4xx or a local bound are not). */
  boolean breakerFailure() {
    return kind.breakerFailure;
  }
}
