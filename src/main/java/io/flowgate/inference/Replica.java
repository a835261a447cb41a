package io.flowgate.inference;

import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Future;
import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One replica of a server: where it listens, its state, its circuit breaker, the requests outstanding on it and, for a
 * launched replica, its process. State changes are made on the server's home context (readiness checks, process
 * events) and, for passive failure detection, by any event loop; fields read on the hot path are volatile.
 */
final class Replica {
  /** Where a replica listens; immutable. */
  record Endpoint(String url, String host, int port, boolean ssl, String basePath) {
    static Endpoint of(String url) {
      URI uri = URI.create(url);
      boolean ssl = "https".equalsIgnoreCase(uri.getScheme());
      int port = uri.getPort() > 0 ? uri.getPort() : ssl ? 443 : 80;
      String path = uri.getRawPath() == null ? "" : uri.getRawPath();
      if (path.endsWith("/")) {
        path = path.substring(0, path.length() - 1);
      }
      return new Endpoint(url, uri.getHost(), port, ssl, path);
    }
  }

  final int index;
  final CircuitBreaker breaker;
  final AtomicInteger outstanding = new AtomicInteger();
  volatile Endpoint endpoint;
  volatile ReplicaState state;
  volatile String lastError;
  volatile long stateSinceMillis = System.currentTimeMillis();
  /** When the current boot began (System.nanoTime), 0 when not booting. */
  volatile long bootStartedNanos;

  // Home context only.
  boolean checking;
  /** The readiness check in flight while {@code checking}. */
  Future<Void> pendingCheck;
  int failedChecks;
  Process process;
  boolean stopping;
  int restarts;
  int consecutiveCrashes;
  long restartAtMillis;
  String logFile;

  Replica(int index, Endpoint endpoint, ReplicaState state, CircuitBreaker breaker) {
    this.index = index;
    this.endpoint = endpoint;
    this.state = state;
    this.breaker = breaker;
  }

  /** Whether requests may go to this replica now (a half-open circuit lets one trial through). */
  boolean eligible() {
    return state == ReplicaState.READY && endpoint != null && breaker.state() != CircuitBreakerState.OPEN;
  }

  /** The state as reported: a ready replica whose circuit is open is unavailable. */
  ReplicaState effectiveState() {
    ReplicaState s = state;
    return s == ReplicaState.READY && breaker.state() == CircuitBreakerState.OPEN ? ReplicaState.UNAVAILABLE : s;
  }

  void setState(ReplicaState next, String error) {
    if (state != next) {
      stateSinceMillis = System.currentTimeMillis();
    }
    state = next;
    lastError = error;
  }
}
