package io.flowgate.trigger;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.deployments.Deployment;
import io.flowgate.http.RequestContext;
import io.flowgate.http.Responses;
import io.flowgate.inference.InferenceServers;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

/**
 * Fast Mode (DESIGN §1.4): a trigger of a {@code fast} deployment goes straight to the deployment's inference server,
 * with no flow engine and no run record, and answers
 * {@code {"status":"success","data":{"status":"completed","output_data":{…},"fast_mode":true,"duration_seconds":…}}}
 * with the server's {@code output_data} copied in as bytes. Failures are the inference codes of §1.6, rendered by the
 * router's failure handler. {@code X-Wait-For-Ready: <0..60>} holds a request until a replica is ready instead of
 * answering 503 at once. Event-loop only.
 */
public final class FastModeHandler {
  static final CharSequence X_WAIT_FOR_READY = HttpHeaders.createOptimized("X-Wait-For-Ready");
  static final int MAX_WAIT_SECONDS = 60;
  // The envelope around the output, the same bytes as the fast lane's.
  private static final Buffer PREFIX = Buffer.buffer(FastLane.BODY_PREFIX);
  private static final Buffer MIDDLE = Buffer.buffer(FastLane.BODY_MIDDLE);
  private static final Buffer SUFFIX = Buffer.buffer(FastLane.BODY_SUFFIX);

  private final InferenceServers servers;

  public FastModeHandler(InferenceServers servers) {
    this.servers = servers;
  }

  /**
   * Forwards {@code input} (the bytes of the trigger's checked {@code input_data} object) and writes the answer; fails
   * with a problem.
   */
  Future<Void> handle(RoutingContext rc, Deployment deployment, Buffer input) {
    int wait;
    try {
      wait = waitSeconds(rc.request().getHeader(X_WAIT_FOR_READY));
    } catch (GatewayException e) {
      return Future.failedFuture(e);
    }
    return servers.inferBytes(deployment.profileId(), deployment.inferenceServerId(), input, wait).map(result -> {
      RequestContext ctx = RequestContext.of(rc);
      Buffer output = result.outputJson();
      byte[] seconds = FastLane.seconds(System.nanoTime() - ctx.startNanos());
      Buffer body = Buffer.buffer(PREFIX.length() + output.length() + MIDDLE.length() + seconds.length + 2)
          .appendBuffer(PREFIX).appendBuffer(output).appendBuffer(MIDDLE).appendBytes(seconds).appendBuffer(SUFFIX);
      Responses.send(rc.response(), 200, body, ctx.requestId());
      return null;
    });
  }

  /** {@code X-Wait-For-Ready}: absent is 0; a whole number of seconds from 0 to 60, else 400 invalid_request. */
  static int waitSeconds(String header) {
    if (header == null) {
      return 0;
    }
    String value = header.trim();
    int seconds = -1;
    if (!value.isEmpty() && value.length() <= 2 && value.chars().allMatch(c -> c >= '0' && c <= '9')) {
      seconds = Integer.parseInt(value);
    }
    if (seconds < 0 || seconds > MAX_WAIT_SECONDS) {
      throw new GatewayException(ErrorCode.INVALID_REQUEST, "X-Wait-For-Ready must be a whole number of seconds "
          + "from 0 to " + MAX_WAIT_SECONDS + ", like X-Wait-For-Ready: 10.");
    }
    return seconds;
  }
}
