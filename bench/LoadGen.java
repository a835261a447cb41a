import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The fixed-rate (open-model) load generator of bench/run.sh: sends requests at a constant rate, each at its
 * scheduled time whether or not earlier ones have been answered, and measures every latency from the time the request
 * was <em>due</em>, not from when it could be sent. A stall of the server therefore shows in the percentiles as the
 * queue it really causes (no coordinated omission, the same correction wrk2 makes); see bench/README.md.
 *
 * <p>{@code --threads} Netty event loops each keep {@code connections / threads} HTTP/1.1 keep-alive connections to
 * every endpoint (host and port) of the {@code --url}s, and send {@code rate / threads} requests per second, scheduled
 * with the event loop's nanosecond timer. A request is one pre-encoded buffer written to an idle connection (one
 * request at a time per connection, as wrk); requests due while every connection is busy wait in a queue, and their
 * wait counts. Responses are read with Netty's HTTP decoder (any framing), the status kept, the body skipped. The
 * first {@code --warmup} seconds are sent but not recorded (the JIT of both sides), then {@code --duration} seconds
 * are. A request unanswered for {@code --timeout-ms} after it was written counts as a timeout, and its connection is
 * replaced.
 *
 * <p>Raw Netty, not an HTTP client library: the generator shares the cores with what it measures, and with Vert.x's
 * client it cost ~60 µs of CPU a request (6x wrk), so at 50% of a target's wrk maximum the machine was saturated and
 * every target's "latency" was the generator's queue (p50 of seconds, the nginx baseline included).
 *
 * <p>Single-file program on flowgate.jar's classpath: {@code java -cp target/flowgate.jar bench/LoadGen.java --url U
 * [--url U2 ...] --rate R --duration S [--warmup S] [--threads T] [--connections C] [--body JSON] [--header K:V ...]
 * [--timeout-ms MS]}. With several {@code --url}s requests go round-robin. Prints one line
 * {@code RESULT key=value ...} (latencies in ms) and exits 0; exits 2 on bad options.
 */
public final class LoadGen {

  record Options(List<String> urls, int rate, int duration, int warmup, int threads, int connections, String body,
      Map<String, String> headers, int timeoutMs) {}

  public static void main(String[] args) throws Exception {
    Options o = parse(args);
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends SocketChannel> channel = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(o.threads(), io);
    List<Sender> senders = new ArrayList<>();
    for (int i = 0; i < o.threads(); i++) {
      senders.add(new Sender(o, i, group.next(), channel));
    }
    // The schedule starts once everything is up: on a busy machine starting alone can take a while, which would
    // otherwise show as latency.
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
    for (Sender s : senders) {
      s.begin(start);
    }
    for (Sender s : senders) {
      s.done.join();
    }
    report(o, senders);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
    System.exit(0);
  }

  private static void report(Options o, List<Sender> senders) {
    int n = 0;
    long errors = 0;
    long timeouts = 0;
    long sent = 0;
    Map<String, Long> statuses = new TreeMap<>();
    for (Sender s : senders) {
      n += s.recorded;
      errors += s.errors;
      timeouts += s.timeouts;
      sent += s.sentRecorded;
      s.statuses.forEach((k, v) -> statuses.merge(k, v, Long::sum));
    }
    long[] all = new long[n];
    int at = 0;
    for (Sender s : senders) {
      System.arraycopy(s.latencies, 0, all, at, s.recorded);
      at += s.recorded;
    }
    Arrays.sort(all);
    StringBuilder line = new StringBuilder("RESULT");
    line.append(" asked_rps=").append(o.rate())
        .append(" achieved_rps=").append(String.format("%.0f", (double) (n - errors - timeouts) / o.duration()))
        .append(" sent=").append(sent)
        .append(" answered=").append(n)
        .append(" errors=").append(errors + timeouts)
        .append(" timeouts=").append(timeouts)
        .append(" p50_ms=").append(ms(pct(all, 50)))
        .append(" p90_ms=").append(ms(pct(all, 90)))
        .append(" p99_ms=").append(ms(pct(all, 99)))
        .append(" p999_ms=").append(ms(pct(all, 99.9)))
        .append(" max_ms=").append(ms(all.length == 0 ? -1 : all[all.length - 1]))
        .append(" statuses=");
    StringBuilder st = new StringBuilder();
    statuses.forEach((k, v) -> st.append(st.length() == 0 ? "" : ",").append(k).append(':').append(v));
    line.append(st.length() == 0 ? "none" : st);
    System.out.println(line);
  }

  private static long pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return -1;
    }
    int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  private static String ms(long nanos) {
    return nanos < 0 ? "n/a" : String.format("%.3f", nanos / 1e6);
  }

  /** One request: when it was due, whether it is recorded, what to write. */
  record Due(long due, boolean record, ByteBuf request) {}

  /** One event loop's share of the load. Every method runs on {@link #loop}. */
  static final class Sender {
    private final Options o;
    private final EventLoop loop;
    private final long intervalNanos;
    private final long offsetNanos;
    private final long timeoutNanos;
    /** Per URL, in --url order: its endpoint and its pre-encoded request. */
    private final Endpoint[] endpointOf;
    private final ByteBuf[] requestOf;
    private final List<Endpoint> endpoints = new ArrayList<>();
    final CompletableFuture<Void> done = new CompletableFuture<>();
    final long[] latencies;
    final Map<String, Long> statuses = new TreeMap<>();
    int recorded;
    long errors;
    long timeouts;
    long sentRecorded;
    private long start;
    private long recordFrom;
    private long end;
    private long index;
    private long inFlight;
    private boolean finished;

    Sender(Options o, int id, EventLoop loop, Class<? extends SocketChannel> channel) {
      this.o = o;
      this.loop = loop;
      double perThread = (double) o.rate() / o.threads();
      this.intervalNanos = (long) (1e9 / perThread);
      // Spread the threads' schedules evenly instead of firing together.
      this.offsetNanos = intervalNanos * id / o.threads();
      this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(o.timeoutMs());
      this.latencies = new long[(int) Math.min(Integer.MAX_VALUE - 16, (long) (perThread * o.duration()) + 1024)];
      int connections = Math.max(1, o.connections() / o.threads());
      Map<String, Endpoint> byAddress = new HashMap<>();
      endpointOf = new Endpoint[o.urls().size()];
      requestOf = new ByteBuf[o.urls().size()];
      for (int i = 0; i < endpointOf.length; i++) {
        URI uri = URI.create(o.urls().get(i));
        String host = uri.getHost();
        int port = uri.getPort() == -1 ? 80 : uri.getPort();
        endpointOf[i] = byAddress.computeIfAbsent(host + ":" + port, k -> {
          Endpoint e = new Endpoint(this, new Bootstrap().group(loop).channel(channel)
              .option(ChannelOption.TCP_NODELAY, true)
              .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, o.timeoutMs())
              .remoteAddress(host, port), connections);
          endpoints.add(e);
          return e;
        });
        requestOf[i] = encode(uri, host, port, o);
      }
    }

    private static ByteBuf encode(URI uri, String host, int port, Options o) {
      String path = (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
          + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
      byte[] body = o.body() == null ? new byte[0] : o.body().getBytes(StandardCharsets.UTF_8);
      StringBuilder head = new StringBuilder(o.body() == null ? "GET " : "POST ").append(path).append(" HTTP/1.1\r\n")
          .append("Host: ").append(host).append(':').append(port).append("\r\n");
      o.headers().forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
      if (o.body() != null) {
        head.append("Content-Length: ").append(body.length).append("\r\n");
      }
      head.append("\r\n");
      ByteBuf buf = Unpooled.directBuffer();
      buf.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8)).writeBytes(body);
      return Unpooled.unreleasableBuffer(buf);
    }

    /** Starts sending: the first request is due at {@code startNanos}. Any thread. */
    void begin(long startNanos) {
      loop.execute(() -> {
        start = startNanos;
        recordFrom = start + TimeUnit.SECONDS.toNanos(o.warmup());
        end = recordFrom + TimeUnit.SECONDS.toNanos(o.duration());
        endpoints.forEach(Endpoint::openAll);
        loop.scheduleAtFixedRate(this::expire, 50, 50, TimeUnit.MILLISECONDS);
        tick();
      });
    }

    /** Sends every request due by now, then sleeps until the next one is due. */
    private void tick() {
      long now = System.nanoTime();
      while (true) {
        long due = start + offsetNanos + index * intervalNanos;
        if (due >= end) {
          finished = true;
          maybeDone();
          return;
        }
        if (due > now) {
          loop.schedule(this::tick, due - now, TimeUnit.NANOSECONDS);
          return;
        }
        int url = (int) (index % endpointOf.length);
        boolean record = due >= recordFrom;
        if (record) {
          sentRecorded++;
        }
        inFlight++;
        endpointOf[url].submit(new Due(due, record, requestOf[url]));
        index++;
      }
    }

    /** A request ended: its status code, or the name of what went wrong. */
    void ended(Due request, int status, String failure) {
      long latency = System.nanoTime() - request.due();
      inFlight--;
      if (request.record()) {
        if (failure == null) {
          statuses.merge(Integer.toString(status), 1L, Long::sum);
          if (status < 200 || status > 299) {
            errors++;
          }
        } else {
          statuses.merge(failure, 1L, Long::sum);
          if (failure.equals("Timeout")) {
            timeouts++;
          } else {
            errors++;
          }
        }
        if (recorded < latencies.length) {
          latencies[recorded++] = latency;
        }
      }
      maybeDone();
    }

    private void expire() {
      long now = System.nanoTime();
      endpoints.forEach(e -> e.expire(now, timeoutNanos));
    }

    private void maybeDone() {
      if (finished && inFlight == 0) {
        endpoints.forEach(Endpoint::closeAll);
        done.complete(null);
      }
    }
  }

  /** The connections of one sender to one host and port, and the requests waiting for one. Event-loop confined. */
  static final class Endpoint {
    private final Sender sender;
    private final Bootstrap bootstrap;
    private final int max;
    private final List<Connection> all = new ArrayList<>();
    private final ArrayDeque<Connection> idle = new ArrayDeque<>();
    private final ArrayDeque<Due> waiting = new ArrayDeque<>();
    private int opening;
    private boolean closed;

    Endpoint(Sender sender, Bootstrap bootstrap, int max) {
      this.sender = sender;
      this.bootstrap = bootstrap;
      this.max = max;
    }

    void openAll() {
      while (all.size() + opening < max) {
        open();
      }
    }

    void submit(Due request) {
      Connection c = idle.poll();
      if (c != null) {
        c.send(request);
      } else {
        waiting.add(request);
        openAll();
      }
    }

    private void open() {
      opening++;
      Connection c = new Connection(this);
      bootstrap.clone().handler(c).connect().addListener(f -> {
        opening--;
        if (f.isSuccess() && closed) {
          c.channel.close();
        } else if (f.isSuccess()) {
          all.add(c);
          released(c);
        } else if (!closed) {
          // Refused or timed out: the oldest waiting request fails with it (as a client's connect would); the
          // others wait for another try in 100 ms, or time out.
          Due first = waiting.poll();
          if (first != null) {
            sender.ended(first, 0, f.cause() == null ? "ConnectFailed" : f.cause().getClass().getSimpleName());
          }
          if (!waiting.isEmpty()) {
            bootstrap.config().group().schedule(this::openAll, 100, TimeUnit.MILLISECONDS);
          }
        }
      });
    }

    void released(Connection c) {
      Due next = waiting.poll();
      if (next != null) {
        c.send(next);
      } else {
        idle.add(c);
      }
    }

    void lost(Connection c) {
      all.remove(c);
      idle.remove(c);
      if (!closed && !waiting.isEmpty()) {
        openAll();
      }
    }

    /** Requests waiting or written longer than the timeout end as timeouts (waiting: since they were due). */
    void expire(long now, long timeoutNanos) {
      while (!waiting.isEmpty() && now - waiting.peek().due() > timeoutNanos) {
        sender.ended(waiting.poll(), 0, "Timeout");
      }
      for (Connection c : new ArrayList<>(all)) {
        c.expireIfOlder(now, timeoutNanos);
      }
    }

    void closeAll() {
      closed = true;
      new ArrayList<>(all).forEach(c -> c.channel.close());
    }
  }

  /** One keep-alive connection: one request at a time, answered when the response's last part has been read. */
  static final class Connection extends SimpleChannelInboundHandler<HttpObject> {
    private final Endpoint endpoint;
    Channel channel;
    private Due current;
    private long sentAt;
    private int status;
    private boolean keepAlive;

    Connection(Endpoint endpoint) {
      this.endpoint = endpoint;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      channel = ctx.channel();
      ctx.pipeline().addBefore(ctx.name(), null, new HttpResponseDecoder());
    }

    void send(Due request) {
      current = request;
      sentAt = System.nanoTime();
      channel.writeAndFlush(request.request().duplicate(), channel.voidPromise());
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      if (msg instanceof HttpResponse response) {
        status = response.status().code();
        keepAlive = HttpUtil.isKeepAlive(response);
      }
      if (msg instanceof LastHttpContent && current != null) {
        Due done = current;
        current = null;
        endpoint.sender.ended(done, status, msg.decoderResult().isFailure() ? "BadResponse" : null);
        if (keepAlive && !msg.decoderResult().isFailure()) {
          endpoint.released(this);
        } else {
          ctx.close();
        }
      }
    }

    void expireIfOlder(long now, long timeoutNanos) {
      if (current != null && now - sentAt > timeoutNanos) {
        Due late = current;
        current = null;
        endpoint.sender.ended(late, 0, "Timeout");
        channel.close();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (current != null) {
        Due lost = current;
        current = null;
        endpoint.sender.ended(lost, 0, "ConnectionClosed");
      }
      endpoint.lost(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  private static Options parse(String[] args) {
    List<String> urls = new ArrayList<>();
    Map<String, String> headers = new TreeMap<>();
    int rate = 0;
    int duration = 0;
    int warmup = 1;
    int threads = 1;
    int connections = 64;
    int timeoutMs = 10_000;
    String body = null;
    try {
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        String v = i + 1 < args.length ? args[++i] : null;
        if (v == null) {
          throw new IllegalArgumentException("option " + a + " needs a value");
        }
        switch (a) {
          case "--url" -> urls.add(v);
          case "--rate" -> rate = Integer.parseInt(v);
          case "--duration" -> duration = Integer.parseInt(v);
          case "--warmup" -> warmup = Integer.parseInt(v);
          case "--threads" -> threads = Integer.parseInt(v);
          case "--connections" -> connections = Integer.parseInt(v);
          case "--timeout-ms" -> timeoutMs = Integer.parseInt(v);
          case "--body" -> body = v;
          case "--header" -> {
            int colon = v.indexOf(':');
            if (colon <= 0) {
              throw new IllegalArgumentException("--header wants Name:value, got " + v);
            }
            headers.put(v.substring(0, colon).trim(), v.substring(colon + 1).trim());
          }
          default -> throw new IllegalArgumentException("unknown option " + a);
        }
      }
      if (urls.isEmpty() || rate <= 0 || duration <= 0 || warmup < 0 || threads <= 0 || connections < threads) {
        throw new IllegalArgumentException("need --url, --rate > 0, --duration > 0 and --connections >= --threads");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("LoadGen: " + e.getMessage());
      System.err.println("usage: java -cp target/flowgate.jar bench/LoadGen.java --url U [--url U2 ...] --rate R "
          + "--duration S [--warmup S] [--threads T] [--connections C] [--body JSON] [--header K:V ...] "
          + "[--timeout-ms MS]");
      System.exit(2);
    }
    return new Options(List.copyOf(urls), rate, duration, warmup, threads, connections, body, headers, timeoutMs);
  }
}
