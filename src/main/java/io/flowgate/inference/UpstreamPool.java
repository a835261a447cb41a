package io.flowgate.inference;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.buffer.BufferInternal;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive HTTP/1.1 connections from one event loop to the replicas of one inference server setup, for Fast Mode's
 * hot path: a request is one pre-encoded buffer written to an idle connection, and the answer comes back to the
 * exchange as callbacks, with no Vert.x request or response objects, futures or pool lookups in between (Vert.x's
 * HTTP client was a tenth of flowgate's CPU per fast request in profiles). The same limits as the Vert.x client it
 * stands in for: at most {@code maxSize} connections per replica, at most {@code maxWaiting} requests waiting for one
 * (a connection being opened counts as one), past that {@link PoolBusy}; connections idle for 60 s are closed.
 * Plain HTTP to an IP literal or {@code localhost} only (no TLS, no name resolution on the event loop): other
 * endpoints keep the Vert.x client. Event-loop confined: every method runs on {@link #loop}.
 */
final class UpstreamPool {
  private static final int IDLE_SECONDS = 60;
  private static final byte[] CRLF2 = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /** What a leased connection reports to the exchange that holds it; called on the event loop, at most once each. */
  interface Exchange {
    void onHead(int status, long contentLength, boolean keepAlive);

    void onContent(ByteBuf content);

    void onEnd();

    /** The connection broke: before the head ({@code headReceived} false) or in the middle of the body. */
    void onBroken(Throwable cause, boolean headReceived);
  }

  /** The answer to {@link #acquire}: a connection, or why there is none. */
  interface Lease {
    void leased(Connection connection);

    void failed(Throwable cause);
  }

  /** Every connection and every request waiting for one is in use: the caller sheds the request. */
  static final class PoolBusy extends RuntimeException {
    PoolBusy() {
      super("connection pool and wait queue full", null, false, false);
    }
  }

  private final VertxInternal vertx;
  private final EventLoop loop;
  private final int maxSize;
  private final int maxWaiting;
  private final int connectTimeoutMs;
  private final Map<Replica.Endpoint, Target> targets = new HashMap<>();
  private boolean closed;

  UpstreamPool(VertxInternal vertx, EventLoop loop, int maxSize, int maxWaiting, int connectTimeoutMs) {
    this.vertx = vertx;
    this.loop = loop;
    this.maxSize = Math.max(1, maxSize);
    this.maxWaiting = Math.max(0, maxWaiting);
    this.connectTimeoutMs = connectTimeoutMs;
  }

  /** Whether this pool can carry requests to {@code endpoint}: plain HTTP to an address that needs no lookup. */
  static boolean serves(Replica.Endpoint endpoint) {
    String host = endpoint.host();
    return !endpoint.ssl() && host != null && (NetUtil.isValidIpV4Address(host) || "localhost".equals(host)
        || NetUtil.isValidIpV6Address(host.startsWith("[") ? host.substring(1, host.length() - 1) : host));
  }

  boolean inLoop() {
    return loop.inEventLoop();
  }

  /** A connection to {@code endpoint} for one exchange: an idle one, a new one, or one freed later. */
  void acquire(Replica.Endpoint endpoint, Lease lease) {
    if (closed) {
      lease.failed(new ClosedChannelException());
      return;
    }
    Target t = targets.computeIfAbsent(endpoint, Target::new);
    Connection c;
    while ((c = t.idle.pollLast()) != null) {
      if (c.channel.isActive()) {
        lease.leased(c);
        return;
      }
    }
    if (t.open < maxSize) {
      t.open++;
      connect(t, lease);
    } else if (t.waiting.size() < maxWaiting) {
      t.waiting.add(lease);
    } else {
      lease.failed(new PoolBusy());
    }
  }

  /** Closes the idle connections; those in use close when their exchange ends. */
  void close() {
    if (!loop.inEventLoop()) {
      loop.execute(this::close);
      return;
    }
    closed = true;
    List<Connection> idle = new ArrayList<>();
    for (Target t : targets.values()) {
      idle.addAll(t.idle);
      t.idle.clear();
      Lease w;
      while ((w = t.waiting.poll()) != null) {
        w.failed(new ClosedChannelException());
      }
    }
    idle.forEach(c -> c.channel.close());
  }

  private void connect(Target t, Lease lease) {
    Connection c = new Connection(t);
    Bootstrap bootstrap = new Bootstrap()
        .group(loop)
        .channelFactory(vertx.transport().channelFactory(false))
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS),
                new HttpResponseDecoder(), c);
          }
        });
    ChannelFuture connecting = bootstrap.connect(t.endpoint.host(), t.endpoint.port());
    c.channel = connecting.channel();
    connecting.addListener(f -> {
      if (f.isSuccess()) {
        lease.leased(c);
      } else {
        t.open--;
        lease.failed(f.cause());
        next(t);
      }
    });
  }

  /** A connection closed or failed to open: a request waiting for one gets a new one. */
  private void next(Target t) {
    Lease w;
    if (!closed && t.open < maxSize && (w = t.waiting.poll()) != null) {
      t.open++;
      connect(t, w);
    }
  }

  /** Connections to one replica. */
  private final class Target {
    final Replica.Endpoint endpoint;
    final ArrayDeque<Connection> idle = new ArrayDeque<>();
    final ArrayDeque<Lease> waiting = new ArrayDeque<>();
    final Map<String, byte[]> heads = new HashMap<>();
    int open;

    Target(Replica.Endpoint endpoint) {
      this.endpoint = endpoint;
    }

    /** The request's first bytes up to the content length's value, once per path. */
    byte[] head(String path) {
      return heads.computeIfAbsent(path, p -> ("POST " + p + " HTTP/1.1\r\nhost: " + endpoint.host() + ":"
          + endpoint.port() + "\r\ncontent-type: application/json\r\naccept: application/json\r\ncontent-length: ")
          .getBytes(StandardCharsets.US_ASCII));
    }
  }

  /** One keep-alive connection and the exchange it carries. */
  final class Connection extends ChannelInboundHandlerAdapter {
    private final Target target;
    private Channel channel;
    private Exchange current;
    private boolean headReceived;
    private boolean keepAlive;
    private boolean interim;

    Connection(Target target) {
      this.target = target;
    }

    /** Sends one POST of {@code body} to {@code path}; the answer goes to {@code exchange}. */
    void send(String path, Buffer body, Exchange exchange) {
      current = exchange;
      headReceived = false;
      byte[] head = target.head(path);
      byte[] length = Integer.toString(body.length()).getBytes(StandardCharsets.US_ASCII);
      ByteBuf out = channel.alloc().directBuffer(head.length + length.length + CRLF2.length + body.length());
      // The body's bytes straight from its buffer (a view of it: the body itself stays readable for a retry).
      out.writeBytes(head).writeBytes(length).writeBytes(CRLF2).writeBytes(((BufferInternal) body).getByteBuf());
      // A failed write closes the channel, which reports the exchange broken.
      channel.writeAndFlush(out, channel.voidPromise());
    }

    /** The exchange is over: the connection serves the next one, or closes when it cannot be reused. */
    void release(boolean reusable) {
      current = null;
      if (!reusable || !keepAlive || closed || !channel.isActive()) {
        channel.close();
        return;
      }
      Lease w = target.waiting.poll();
      if (w != null) {
        w.leased(this);
      } else {
        target.idle.addLast(this);
      }
    }

    /** Abandons the exchange half-way: closing is the only way to stop the replica's work on it. */
    void abort() {
      current = null;
      channel.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        Exchange e = current;
        if (e == null) {
          // Nothing was asked on this connection: whatever the replica sends makes it unusable.
          ctx.close();
          return;
        }
        if (msg instanceof HttpResponse response) {
          if (!response.decoderResult().isSuccess()) {
            current = null;
            ctx.close();
            e.onBroken(response.decoderResult().cause(), headReceived);
            return;
          }
          if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            // An interim answer (100 Continue): its empty end is skipped too, the real head follows.
            interim = true;
            return;
          }
          headReceived = true;
          keepAlive = HttpUtil.isKeepAlive(response);
          e.onHead(response.status().code(), HttpUtil.getContentLength(response, -1L), keepAlive);
        }
        if (interim) {
          interim = !(msg instanceof LastHttpContent);
          return;
        }
        if (msg instanceof HttpContent content && current == e) {
          e.onContent(content.content());
          if (msg instanceof LastHttpContent && current == e) {
            e.onEnd();
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof IdleStateEvent) {
        ctx.close();
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Exchange e = current;
      current = null;
      ctx.close();
      if (e != null) {
        e.onBroken(cause, headReceived);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      target.open--;
      target.idle.remove(this);
      Exchange e = current;
      current = null;
      if (e != null) {
        e.onBroken(new ClosedChannelException(), headReceived);
      }
      next(target);
      ctx.fireChannelInactive();
    }
  }
}
