import io.netty.channel.EventLoop;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.ContextInternal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The fixed-rate (open-model) load generator of bench/run.sh: sends requests at a constant rate, each at its
 * scheduled time whether or not earlier ones have been answered, and measures every latency from the time the request
 * was <em>due</em>, not from when it could be sent. A stall of the server therefore shows in the percentiles as the
 * queue it really causes (no coordinated omission, the same correction wrk2 makes); see bench/README.md.
 *
 * <p>{@code --threads} event loops each own an HTTP/1.1 keep-alive client with {@code connections / threads}
 * connections and send {@code rate / threads} requests per second, scheduled with the event loop's nanosecond timer.
 * Requests due while all connections are busy wait in the client's queue (their wait counts). The first
 * {@code --warmup} seconds are sent but not recorded (the JIT of both sides), then {@code --duration} seconds are.
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
    Vertx vertx = Vertx.builder()
        .with(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(o.threads()))
        .build();
    List<Sender> senders = new ArrayList<>();
    for (int i = 0; i < o.threads(); i++) {
      senders.add(new Sender(o, i));
    }
    for (Sender s : senders) {
      vertx.deployVerticle(s, new DeploymentOptions()).await();
    }
    // The schedule starts once everything is up: on a busy machine starting Vert.x alone can take seconds, which
    // would otherwise show as latency.
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
    for (Sender s : senders) {
      s.begin(start);
    }
    for (Sender s : senders) {
      s.done.future().await();
    }
    report(o, senders);
    vertx.close().await();
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
        .append(" achieved_rps=").append(String.format("%.0f", (double) (n - errors) / o.duration()))
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

  /** One event loop's share of the load. Event-loop only (its own). */
  static final class Sender extends VerticleBase {
    private final Options o;
    private long start;
    private long recordFrom;
    private long end;
    private final long intervalNanos;
    private final long offsetNanos;
    private final Buffer body;
    private final RequestOptions[] requests;
    final Promise<Void> done = Promise.promise();
    final long[] latencies;
    final Map<String, Long> statuses = new TreeMap<>();
    int recorded;
    long errors;
    long timeouts;
    long sentRecorded;
    private long index;
    private long inFlight;
    private boolean finished;
    private HttpClientAgent client;
    private EventLoop loop;

    Sender(Options o, int id) {
      this.o = o;
      double perThread = (double) o.rate() / o.threads();
      this.intervalNanos = (long) (1e9 / perThread);
      // Spread the threads' schedules evenly instead of firing together.
      this.offsetNanos = intervalNanos * id / o.threads();
      this.latencies = new long[(int) Math.min(Integer.MAX_VALUE - 16, (long) (perThread * o.duration()) + 1024)];
      this.body = o.body() == null ? null : Buffer.buffer(o.body());
      this.requests = new RequestOptions[o.urls().size()];
      for (int i = 0; i < requests.length; i++) {
        RequestOptions r = new RequestOptions().setAbsoluteURI(o.urls().get(i))
            .setMethod(o.body() == null ? HttpMethod.GET : HttpMethod.POST)
            .setIdleTimeout(o.timeoutMs());
        o.headers().forEach(r::putHeader);
        requests[i] = r;
      }
    }

    @Override
    public Future<?> start() {
      int perThread = Math.max(1, o.connections() / o.threads());
      client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true)
          .setConnectTimeout(o.timeoutMs()), new PoolOptions().setHttp1MaxSize(perThread).setMaxWaitQueueSize(-1));
      loop = ((ContextInternal) context).nettyEventLoop();
      return Future.succeededFuture();
    }

    /** Starts sending: the first request is due at {@code startNanos}. Any thread. */
    void begin(long startNanos) {
      context.runOnContext(v -> {
        start = startNanos;
        recordFrom = start + TimeUnit.SECONDS.toNanos(o.warmup());
        end = recordFrom + TimeUnit.SECONDS.toNanos(o.duration());
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
          // Netty's timer for sub-millisecond precision; the tick itself runs on the verticle's context (called
          // outside it, the client's requests were seconds late).
          loop.schedule(() -> context.runOnContext(v -> tick()), due - now, TimeUnit.NANOSECONDS);
          return;
        }
        send(due, requests[(int) (index % requests.length)]);
        index++;
      }
    }

    private void send(long due, RequestOptions options) {
      inFlight++;
      boolean record = due >= recordFrom;
      if (record) {
        sentRecorded++;
      }
      client.request(options)
          .compose(req -> (body == null ? req.send() : req.send(body))
              .compose(resp -> resp.body().map(b -> resp.statusCode())))
          .onComplete(ar -> {
            long latency = System.nanoTime() - due;
            inFlight--;
            if (record) {
              if (ar.succeeded()) {
                int status = ar.result();
                statuses.merge(Integer.toString(status), 1L, Long::sum);
                if (status < 200 || status > 299) {
                  errors++;
                }
              } else {
                String kind = ar.cause().getClass().getSimpleName();
                statuses.merge(kind, 1L, Long::sum);
                if (kind.contains("Timeout")) {
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
          });
    }

    private void maybeDone() {
      if (finished && inFlight == 0) {
        done.tryComplete();
      }
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
