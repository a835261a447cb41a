package io.flowgate.http;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The router's failure handler: maps every failure to problem+json and always ends the response. 4xx log at DEBUG,
 * 5xx at WARN (ERROR for internal faults) with the request id, at most one line per code per second. Never renders
 * a stack trace. Event-loop only.
 */
public final class ErrorHandler implements Handler<RoutingContext> {
  private static final Logger LOG = LoggerFactory.getLogger(ErrorHandler.class);
  // Draining a refused body up to this size keeps the connection and lets the client read the answer cleanly.
  private static final long DRAIN_LIMIT = 2 * 1024 * 1024;
  /** Where the rendered error's code is left on the context, for handlers that record metrics at the end. */
  public static final String OUTCOME = "fg.outcome";
  /** One line per code per second at most: a flood of one failure must not cost a console write per request. */
  private static final LogThrottle THROTTLE = new LogThrottle(1, TimeUnit.SECONDS);

  @Override
  public void handle(RoutingContext rc) {
    String requestId = RequestContext.requestId(rc);
    GatewayException e = toGatewayException(rc.failure(), rc.statusCode(), rc);
    log(e, requestId, rc.request().method().name(), rc.currentRoute() == null ? "-" : rc.currentRoute().getName(),
        rc.failure());
    rc.put(OUTCOME, e.code().outcome());
    releaseUnreadBody(rc);
    Problems.send(rc.response(), e, requestId);
  }

  /**
   * Logs the answer {@code e} to a request: 4xx at DEBUG, 5xx at WARN and internal faults at ERROR with
   * {@code failure}'s stack, each code at most once a second. For every path that renders a problem.
   */
  public static void log(GatewayException e, String requestId, String method, String route, Throwable failure) {
    if (e.code().status() >= 500 && e.code() != ErrorCode.FLOW_FAILED) {
      long leftOut = THROTTLE.admit(e.code());
      if (leftOut < 0) {
        // Counted; the next line for this code says how many were left out.
      } else if (e.code() == ErrorCode.INTERNAL) {
        LOG.error("request {} {} {} failed{}", requestId, method, route, LogThrottle.leftOut(leftOut), failure);
      } else {
        LOG.warn("request {} answered {}: {}{}", requestId, e.code().code(), e.detail(), LogThrottle.leftOut(leftOut));
      }
    } else if (LOG.isDebugEnabled()) {
      LOG.debug("request {} answered {}", requestId, e.code().code());
    }
  }

  /**
   * A request answered before its body was read (refused by key, id or declared size) still has that body on the
   * connection, paused. A small one is drained so the keep-alive connection serves the next request; a large or
   * unknown-length one is not worth reading: the connection closes after the answer.
   */
  static void releaseUnreadBody(RoutingContext rc) {
    HttpServerRequest request = rc.request();
    if (request.isEnded()) {
      return;
    }
    long declared = -1;
    String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length != null) {
      try {
        declared = Long.parseLong(length.trim());
      } catch (NumberFormatException ignored) {
        declared = -1;
      }
    }
    if (declared >= 0 && declared <= DRAIN_LIMIT) {
      request.handler(null);
      request.resume();
    } else {
      rc.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
      rc.response().endHandler(v -> request.connection().close());
    }
  }

  /** The problem a failure (or a bare status set by Vert.x Web) stands for. */
  public static GatewayException toGatewayException(Throwable failure, int statusCode, RoutingContext rc) {
    if (failure instanceof GatewayException ge) {
      return ge;
    }
    if (failure instanceof DecodeException) {
      return new GatewayException(ErrorCode.INVALID_JSON, "The request body is not valid JSON.");
    }
    int status = failure instanceof HttpException he ? he.getStatusCode() : statusCode;
    if (failure == null || failure instanceof HttpException) {
      switch (status) {
        case 400:
          return new GatewayException(ErrorCode.INVALID_REQUEST, "The request is malformed.");
        case 404:
          return new GatewayException(ErrorCode.NOT_FOUND,
              "No such resource: " + safePath(rc) + ". Check the URL against the API reference.");
        case 405:
          return new GatewayException(ErrorCode.METHOD_NOT_ALLOWED,
              rc.request().method() + " is not allowed on " + safePath(rc) + ".");
        case 413:
          return new GatewayException(ErrorCode.PAYLOAD_TOO_LARGE, "The request body is too large.");
        case 415:
          return new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
              "Send the body as application/json.");
        case 431:
          return new GatewayException(ErrorCode.HEADERS_TOO_LARGE, "The request headers are too large.");
        default:
          break;
      }
    }
    return new GatewayException(ErrorCode.INTERNAL,
        "flowgate could not complete the request; retry, and report the instance id if it persists.");
  }

  private static String safePath(RoutingContext rc) {
    String path = rc.normalizedPath();
    if (path == null) {
      return "this path";
    }
    return path.length() > 200 ? path.substring(0, 200) + "…" : path;
  }
}
