package io.flowgate.http;

import io.vertx.ext.web.RoutingContext;

/**
 * Per-request state attached once to the {@link RoutingContext}: the request id and the start time. Never stored in
 * verticle fields. Event-loop only.
 */
public final class RequestContext {
  private static final String KEY = "fg.ctx";
  private final String requestId;
  private final long startNanos;

  private RequestContext(String requestId, long startNanos) {
    this.requestId = requestId;
    this.startNanos = startNanos;
  }

  /** The first handler of every route: assigns the request id and echoes it. */
  public static void attach(RoutingContext rc) {
    String id = RequestIds.acceptOrCreate(rc.request().getHeader(Problems.X_REQUEST_ID));
    rc.put(KEY, new RequestContext(id, System.nanoTime()));
    rc.next();
  }

  public static RequestContext of(RoutingContext rc) {
    RequestContext ctx = rc.get(KEY);
    if (ctx == null) {
      ctx = new RequestContext(RequestIds.random(), System.nanoTime());
      rc.put(KEY, ctx);
    }
    return ctx;
  }

  public static String requestId(RoutingContext rc) {
    return of(rc).requestId;
  }

  public String requestId() {
    return requestId;
  }

  public long startNanos() {
    return startNanos;
  }
}
