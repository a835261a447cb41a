package io.flowgate.trigger;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.deployments.Catalog;
import io.flowgate.deployments.Deployment;
import io.flowgate.deployments.ExecutionMode;
import io.flowgate.http.ErrorHandler;
import io.flowgate.http.JsonBodies;
import io.flowgate.http.Problems;
import io.flowgate.http.RequestIds;
import io.flowgate.inference.InferenceResult;
import io.flowgate.inference.InferenceServers;
import io.flowgate.metrics.GatewayMetrics;
import io.flowgate.usage.UsageRecorder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.impl.Http1xServerConnection;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.buffer.BufferInternal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Fast Mode's lane past the router (issue #4, #7): a Netty handler in front of Vert.x's HTTP/1.1 handler on every
 * connection answers the fast-mode triggers it can serve from memory — key and deployment cached, no flow, no rate
 * limit, a plain keep-alive HTTP/1.1 POST with a {@code Content-Length} within the deployment's limit and a JSON
 * content type — without a Vert.x request, response, router or routing context. Everything else goes on to Vert.x
 * untouched, so every refusal, every error and every other route keeps its one implementation: a request the lane
 * took but then finds wrong (a body that is not a JSON object, say) is handed to Vert.x whole, as if the lane had not
 * been there. The upstream call is the same {@link InferenceServers#inferBytes} as the router's path (pool, breaker,
 * retry budget, timeouts), and the answer carries the same status, headers and body, metrics and usage.
 *
 * <p>Responses on a connection stay in request order: the lane takes a request only when Vert.x has no request of
 * that connection open, and holds (in order) whatever arrives on the connection while its own request is in flight.
 * Its in-flight requests are counted, so that a shutdown can wait for them as Vert.x waits for its own.
 * Event-loop only, per connection; the lane object itself is shared by every verticle.
 */
public final class FastLane {
  private static final String PREFIX = "/node/deployment-trigger/";
  private static final int UUID_LENGTH = 36;
  private static final byte[] OK_HEAD = ascii("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
      + "cache-control: no-store\r\nX-Request-Id: ");
  static final byte[] BODY_PREFIX =
      ascii("{\"status\":\"success\",\"data\":{\"status\":\"completed\",\"output_data\":");
  static final byte[] BODY_MIDDLE = ascii(",\"fast_mode\":true,\"duration_seconds\":");
  static final byte[] BODY_SUFFIX = ascii("}}");
  private static final byte[] CONTENT_LENGTH = ascii("\r\ncontent-length: ");
  private static final byte[] CRLF2 = ascii("\r\n\r\n");

  private final Catalog catalog;
  private final InferenceServers servers;
  private final JsonBodies json;
  private final GatewayMetrics metrics;
  private final UsageRecorder usage;
  private final int defaultMaxBody;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final LongAdder answered = new LongAdder();
  private volatile boolean closed;

  public FastLane(Catalog catalog, InferenceServers servers, JsonBodies json, GatewayMetrics metrics,
      UsageRecorder usage, int defaultMaxBody) {
    this.catalog = catalog;
    this.servers = servers;
    this.json = json;
    this.metrics = metrics;
    this.usage = usage;
    this.defaultMaxBody = defaultMaxBody;
  }

  /**
   * Puts the lane in front of {@code connection}'s request handling; an HTTP/2 connection, or a pipeline with
   * compression or anything else the lane would have to write through, is left as it is. Called by the server's
   * connection handler, on the connection's event loop.
   */
  public void install(HttpConnection connection) {
    if (!(connection instanceof Http1xServerConnection c)) {
      return;
    }
    ChannelPipeline pipeline = c.channelHandlerContext().pipeline();
    if (pipeline.get("handler") == null || pipeline.context("httpEncoder") == null || pipeline.get("deflater") != null
        || pipeline.get("inflater") != null) {
      return;
    }
    pipeline.addBefore("handler", "flowgate-fast-lane", new Lane(c.context()));
  }

  /** Requests the lane has taken and not answered yet, on every connection. */
  public int inFlight() {
    return inFlight.get();
  }

  /** Requests the lane has answered since the start (tests and diagnostics). */
  public long answered() {
    return answered.sum();
  }

  /** From now on the lane takes nothing: a shutting-down gateway leaves new requests to Vert.x. */
  public void close() {
    closed = true;
  }

  /** The request the lane may take, or null to leave it to Vert.x. */
  private Catalog.Target admissible(HttpRequest request) {
    if (closed || request.method() != HttpMethod.POST || request.protocolVersion() != HttpVersion.HTTP_1_1
        || !request.decoderResult().isSuccess()) {
      return null;
    }
    String uri = request.uri();
    int length = uri.length();
    if (!uri.startsWith(PREFIX) || length != PREFIX.length() + UUID_LENGTH
        && (length != PREFIX.length() + UUID_LENGTH + 1 || uri.charAt(length - 1) != '/')) {
      return null;
    }
    HttpHeaders headers = request.headers();
    if (!HttpUtil.isKeepAlive(request) || headers.contains(HttpHeaderNames.EXPECT)
        || headers.contains(HttpHeaderNames.TRANSFER_ENCODING) || headers.contains(FastModeHandler.X_WAIT_FOR_READY)
        || !TriggerHandler.acceptableContentType(headers.get(HttpHeaderNames.CONTENT_TYPE))) {
      return null;
    }
    UUID deploymentId = TriggerHandler.parseUuid(uri.substring(PREFIX.length(), PREFIX.length() + UUID_LENGTH));
    if (deploymentId == null) {
      return null;
    }
    Catalog.Target target = catalog.cachedWithoutFlow(headers.get(TriggerHandler.X_API_KEY), deploymentId);
    if (target == null) {
      return null;
    }
    Deployment d = target.deployment();
    long declared = HttpUtil.getContentLength(request, -1L);
    int limit = d.maxBodyBytes() != null ? d.maxBodyBytes() : defaultMaxBody;
    if (d.executionMode() != ExecutionMode.FAST || d.rateLimit() != null || d.inferenceServerId() == null
        || declared < 0 || declared > limit) {
      return null;
    }
    return target;
  }

  /**
   * {@code nanos} as seconds with nine decimals and no trailing zeros ({@code 0.004056904}, {@code 1.5}, {@code 0.0}):
   * what {@code Double.toString} gives for durations above a millisecond, without its cost or its exponent form
   * below one.
   */
  static byte[] seconds(long nanos) {
    long n = Math.max(0, nanos);
    String whole = Long.toString(n / 1_000_000_000L);
    int fraction = (int) (n % 1_000_000_000L);
    int digits = 9;
    while (digits > 1 && fraction % 10 == 0) {
      fraction /= 10;
      digits--;
    }
    byte[] out = new byte[whole.length() + 1 + digits];
    for (int i = 0; i < whole.length(); i++) {
      out[i] = (byte) whole.charAt(i);
    }
    out[whole.length()] = '.';
    for (int i = out.length - 1; i > whole.length(); i--) {
      out[i] = (byte) ('0' + fraction % 10);
      fraction /= 10;
    }
    return out;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** The lane on one connection. */
  private final class Lane extends ChannelDuplexHandler {
    private final ContextInternal context;
    private ChannelHandlerContext ctx;
    private ChannelHandlerContext encoder;
    /** Requests handed to Vert.x whose response has not ended yet. */
    private int vertxOpen;
    /** The lane's own request, from its head until its answer is written. */
    private Exchange current;
    /** What arrived while {@link #current} was in flight, in order. */
    private final ArrayDeque<Object> held = new ArrayDeque<>();
    private boolean replaying;

    Lane(ContextInternal context) {
      this.context = context;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
      this.encoder = ctx.pipeline().context("httpEncoder");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Exchange e = current;
      if (e != null) {
        if (e.reading && msg instanceof HttpContent content) {
          e.append(content);
          if (content instanceof LastHttpContent) {
            e.forward();
          }
        } else {
          held.add(msg);
          if (held.size() == 64) {
            // A client pipelining this deep waits for the answers anyway: stop reading until they are out.
            ctx.channel().config().setAutoRead(false);
          }
        }
        return;
      }
      if (msg instanceof HttpRequest request && vertxOpen == 0) {
        Catalog.Target target = admissible(request);
        if (target != null) {
          current = new Exchange(request, target);
          return;
        }
      }
      if (msg instanceof HttpRequest) {
        vertxOpen++;
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      // Vert.x's answers pass here; the end of one closes the request it answered (an interim 100 does not).
      if (msg instanceof LastHttpContent && vertxOpen > 0
          && !(msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL)) {
        vertxOpen--;
      }
      ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      releaseHeld();
      ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      releaseHeld();
    }

    private void releaseHeld() {
      Object msg;
      while ((msg = held.poll()) != null) {
        ReferenceCountUtil.release(msg);
      }
    }

    /** The lane's request has its answer (or went to Vert.x): what arrived meanwhile is read now, in order. */
    private void next() {
      current = null;
      if (replaying) {
        return;
      }
      if (held.isEmpty()) {
        return;
      }
      replaying = true;
      try {
        while (!held.isEmpty() && (current == null || current.reading)) {
          channelRead(ctx, held.poll());
        }
      } finally {
        replaying = false;
      }
      // Outside Netty's read loop: Vert.x flushes what it was given only at the end of a read.
      ctx.fireChannelReadComplete();
      if (held.isEmpty() && !ctx.channel().config().isAutoRead()) {
        ctx.channel().config().setAutoRead(true);
      }
    }

    /** One request of the lane: its body read, then forwarded, then answered. */
    private final class Exchange {
      private final HttpRequest request;
      private final Catalog.Target target;
      private final long startNanos = System.nanoTime();
      private final String requestId;
      private final ByteBuf body;
      private boolean reading = true;

      Exchange(HttpRequest request, Catalog.Target target) {
        this.request = request;
        this.target = target;
        this.requestId = RequestIds.acceptOrCreate(request.headers().get(Problems.X_REQUEST_ID));
        this.body = Unpooled.buffer((int) HttpUtil.getContentLength(request, 0L));
      }

      void append(HttpContent content) {
        try {
          body.writeBytes(content.content());
        } finally {
          content.release();
        }
      }

      void forward() {
        reading = false;
        Buffer input;
        try {
          input = json.inputDataBytes(BufferInternal.buffer(body));
        } catch (RuntimeException e) {
          // Not a body the lane answers: Vert.x gets the request whole and gives the one answer it always gives.
          vertxOpen++;
          ctx.fireChannelRead(request);
          ctx.fireChannelRead(new DefaultLastHttpContent(body.readerIndex(0)));
          ctx.fireChannelReadComplete();
          next();
          return;
        }
        Deployment d = target.deployment();
        inFlight.incrementAndGet();
        context.dispatch(v -> {
          Future<InferenceResult> answered;
          try {
            answered = servers.inferBytes(d.profileId(), d.inferenceServerId(), input, 0);
          } catch (RuntimeException e) {
            answered = Future.failedFuture(e);
          }
          answered.onComplete(this::answer);
        });
      }

      private void answer(AsyncResult<InferenceResult> ar) {
        inFlight.decrementAndGet();
        Deployment d = target.deployment();
        String outcome;
        ByteBuf out;
        if (ar.succeeded()) {
          outcome = "ok";
          out = success(ar.result().outputJson());
        } else {
          GatewayException e = ar.cause() instanceof GatewayException ge ? ge
              : new GatewayException(ErrorCode.INTERNAL,
                  "flowgate could not complete the request; retry, and report the instance id if it persists.");
          ErrorHandler.log(e, requestId, "POST", "fast lane", ar.cause());
          outcome = e.code().outcome();
          out = problem(e);
        }
        // Counted before the write: a client that reads the answer sees the count include it.
        answered.increment();
        encoder.writeAndFlush(out, encoder.voidPromise());
        metrics.triggerDone(d.executionMode().wire(), d.deploymentType().wire(), outcome, startNanos);
        if (usage != null) {
          usage.call(d.id(), target.key().id(), "ok".equals(outcome) ? null : outcome,
              System.nanoTime() - startNanos);
        }
        next();
      }

      private ByteBuf success(Buffer output) {
        byte[] seconds = seconds(System.nanoTime() - startNanos);
        ByteBuf outputBytes = ((BufferInternal) output).getByteBuf();
        int bodyLength = BODY_PREFIX.length + outputBytes.readableBytes() + BODY_MIDDLE.length + seconds.length
            + BODY_SUFFIX.length;
        byte[] length = Integer.toString(bodyLength).getBytes(StandardCharsets.US_ASCII);
        ByteBuf buf = ctx.alloc().directBuffer(OK_HEAD.length + requestId.length() + CONTENT_LENGTH.length
            + length.length + CRLF2.length + bodyLength);
        buf.writeBytes(OK_HEAD).writeCharSequence(requestId, StandardCharsets.US_ASCII);
        buf.writeBytes(CONTENT_LENGTH).writeBytes(length).writeBytes(CRLF2);
        buf.writeBytes(BODY_PREFIX).writeBytes(outputBytes).writeBytes(BODY_MIDDLE).writeBytes(seconds)
            .writeBytes(BODY_SUFFIX);
        return buf;
      }

      private ByteBuf problem(GatewayException e) {
        byte[] json = Problems.body(e, requestId).toBuffer().getBytes();
        HttpResponseStatus status = HttpResponseStatus.valueOf(e.code().status());
        StringBuilder head = new StringBuilder(256)
            .append("HTTP/1.1 ").append(status.code()).append(' ').append(status.reasonPhrase());
        Problems.headers(e, requestId, (name, value) -> head.append("\r\n").append(name).append(": ").append(value));
        head.append("\r\ncontent-length: ").append(json.length).append("\r\n\r\n");
        ByteBuf buf = ctx.alloc().directBuffer(head.length() + json.length);
        buf.writeCharSequence(head, StandardCharsets.US_ASCII);
        buf.writeBytes(json);
        return buf;
      }
    }
  }
}
