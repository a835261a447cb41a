package io.flowgate.http;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;

/**
 * Reads a request body up to a limit known only after routing (the deployment's {@code max_body_bytes}). A declared
 * {@code Content-Length} over the limit is refused before a byte is read; a body that grows past it while streaming
 * is refused as soon as it does. Event-loop only; the request must have been paused until this is called.
 */
public final class BoundedBody {
  private BoundedBody() {
  }

  public static Future<Buffer> read(HttpServerRequest request, long limit) {
    String declared = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (declared != null) {
      long length;
      try {
        length = Long.parseLong(declared.trim());
      } catch (NumberFormatException e) {
        return Future.failedFuture(new GatewayException(ErrorCode.INVALID_REQUEST,
            "The Content-Length header is not a number."));
      }
      if (length > limit) {
        return Future.failedFuture(tooLarge(limit));
      }
    }
    if (request.isEnded()) {
      return Future.succeededFuture(Buffer.buffer(0));
    }
    Promise<Buffer> promise = Promise.promise();
    Buffer body = Buffer.buffer(declared != null ? (int) Math.min(Long.parseLong(declared.trim()), limit) : 256);
    request.handler(chunk -> {
      if (promise.future().isComplete()) {
        return;
      }
      if (body.length() + chunk.length() > limit) {
        request.handler(null);
        promise.tryFail(tooLarge(limit));
        return;
      }
      body.appendBuffer(chunk);
    });
    request.endHandler(v -> promise.tryComplete(body));
    request.exceptionHandler(promise::tryFail);
    request.resume();
    return promise.future();
  }

  private static GatewayException tooLarge(long limit) {
    return new GatewayException(ErrorCode.PAYLOAD_TOO_LARGE,
        "The request body is larger than this deployment's limit of " + limit + " bytes; send less data.");
  }
}
