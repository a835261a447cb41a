package io.flowgate.testsupport;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The side-effect table of the durability tests (RELIABILITY §2.1): an HTTP server on {@code 127.0.0.1} (free port)
 * that flows call through an {@code http_request} node, {@code POST /probe {"probe": "<id>"}}. It records every call
 * (probe id, its execution number, arrival and answer time, the caller's source port) and answers after a delay
 * (per probe, see {@link #delay}) with {@code {"probe", "execution", "seq"}}: {@code execution} counts the calls
 * of that probe, {@code seq} all calls, so a run's {@code output_data} tells which execution produced it.
 * Thread-safe; the server runs on its own Vert.x instance.
 */
public final class ProbeServer implements AutoCloseable {

  /** One call of the probe endpoint. {@code answeredAtNanos} is 0 until answered. */
  public static final class Call {
    public final String probe;
    public final int execution;
    public final long seq;
    public final int callerPort;
    public final long arrivedAtNanos;
    volatile long answeredAtNanos;

    Call(String probe, int execution, long seq, int callerPort, long arrivedAtNanos) {
      this.probe = probe;
      this.execution = execution;
      this.seq = seq;
      this.callerPort = callerPort;
      this.arrivedAtNanos = arrivedAtNanos;
    }

    /** When the answer was sent ({@link System#nanoTime()}), 0 while it is held. */
    public long answeredAtNanos() {
      return answeredAtNanos;
    }

    public boolean answered() {
      return answeredAtNanos != 0;
    }

    @Override
    public String toString() {
      return probe + "#" + execution + " (seq " + seq + ", from port " + callerPort + (answered() ? ", answered" : "")
          + ")";
    }
  }

  private final Vertx vertx;
  private final HttpServer server;
  private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final AtomicLong seq = new AtomicLong();
  private final Map<Integer, Long> pidOfCallerPort = new ConcurrentHashMap<>();
  private volatile Function<String, Duration> delay;

  private ProbeServer(Vertx vertx, HttpServer server, Function<String, Duration> delay) {
    this.vertx = vertx;
    this.server = server;
    this.delay = delay;
  }

  /** A probe server answering every call after {@code delay}. */
  public static ProbeServer start(Duration delay) {
    return start(probe -> delay);
  }

  /** A probe server answering each call after the delay {@code delay} gives for its probe id. */
  public static ProbeServer start(Function<String, Duration> delay) {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    ProbeServer[] self = new ProbeServer[1];
    HttpServer server = vertx.createHttpServer().requestHandler(req -> self[0].handle(req));
    try {
      server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      vertx.close();
      throw new IllegalStateException("probe server did not start: " + e, e);
    }
    self[0] = new ProbeServer(vertx, server, delay);
    return self[0];
  }

  private void handle(HttpServerRequest req) {
    if (!req.path().equals("/probe")) {
      req.response().setStatusCode(404).end();
      return;
    }
    int callerPort = req.remoteAddress() == null ? -1 : req.remoteAddress().port();
    long arrived = System.nanoTime();
    req.body().onComplete(ar -> {
      String probe;
      try {
        probe = ar.succeeded() && ar.result().length() > 0
            ? String.valueOf(new JsonObject(ar.result()).getValue("probe")) : "null";
      } catch (RuntimeException e) {
        probe = "unparseable";
      }
      int execution = counts.computeIfAbsent(probe, p -> new AtomicInteger()).incrementAndGet();
      Call call = new Call(probe, execution, seq.incrementAndGet(), callerPort, arrived);
      calls.add(call);
      JsonObject reply = new JsonObject().put("probe", probe).put("execution", execution).put("seq", call.seq);
      long ms = Math.max(0, delay.apply(probe).toMillis());
      Runnable answer = () -> {
        call.answeredAtNanos = System.nanoTime();
        req.response().putHeader("content-type", "application/json").end(reply.encode());
      };
      if (ms == 0) {
        answer.run();
      } else {
        vertx.setTimer(ms, t -> answer.run());
      }
    });
  }

  /** Changes the delay of calls from now on. */
  public void delay(Function<String, Duration> delay) {
    this.delay = delay;
  }

  public int port() {
    return server.actualPort();
  }

  /** The URL flows call: {@code http://127.0.0.1:<port>/probe}. */
  public String url() {
    return "http://127.0.0.1:" + port() + "/probe";
  }

  /** How often {@code probe} was executed. */
  public int count(String probe) {
    AtomicInteger n = counts.get(probe);
    return n == null ? 0 : n.get();
  }

  /** Executions per probe id. */
  public Map<String, Integer> counts() {
    Map<String, Integer> copy = new HashMap<>();
    counts.forEach((k, v) -> copy.put(k, v.get()));
    return copy;
  }

  /** Every call so far, in arrival order. */
  public List<Call> calls() {
    return new ArrayList<>(calls);
  }

  /** All calls so far. */
  public int total() {
    return calls.size();
  }

  /** Calls received and not yet answered. */
  public List<Call> inFlight() {
    return calls.stream().filter(c -> !c.answered()).toList();
  }

  /**
   * The pid among {@code candidates} whose socket made {@code call} (Linux {@code /proc}: the caller's
   * {@code 127.0.0.1:<callerPort>} → socket inode → the process holding it), or -1 when not found (the connection is
   * gone, or this is not Linux). Blocking file reads: call from a test thread.
   */
  public long callerPid(Call call, Collection<Long> candidates) {
    return callerPids(List.of(call), candidates).getOrDefault(call.seq, -1L);
  }

  /**
   * {@link #callerPid} for several calls at once, by call {@code seq}: callers' ports already seen are answered from
   * a cache (pooled connections keep their port), the others with one pass over {@code /proc}, which can take a few
   * hundred milliseconds on a busy machine.
   */
  public Map<Long, Long> callerPids(List<Call> calls, Collection<Long> candidates) {
    Map<Long, Long> pids = new HashMap<>();
    List<Call> unknown = new ArrayList<>();
    for (Call call : calls) {
      Long pid = pidOfCallerPort.get(call.callerPort);
      if (pid != null && candidates.contains(pid) && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
        pids.put(call.seq, pid);
      } else {
        unknown.add(call);
      }
    }
    if (!unknown.isEmpty()) {
      Map<Long, Long> scanned = scanCallerPids(unknown, candidates);
      for (Call call : unknown) {
        long pid = scanned.get(call.seq);
        pids.put(call.seq, pid);
        if (pid > 0) {
          pidOfCallerPort.put(call.callerPort, pid);
        }
      }
    }
    return pids;
  }

  private Map<Long, Long> scanCallerPids(List<Call> calls, Collection<Long> candidates) {
    Map<Integer, String> inodeOfPort = new HashMap<>();
    String remote = String.format(":%04X", port());
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      try {
        for (String line : Files.readAllLines(Path.of(table))) {
          String[] f = line.trim().split("\\s+");
          if (f.length > 9 && f[2].endsWith(remote)) {
            inodeOfPort.put(Integer.parseInt(f[1].substring(f[1].lastIndexOf(':') + 1), 16), f[9]);
          }
        }
      } catch (IOException | RuntimeException e) {
        // no such table
      }
    }
    Map<String, Long> pidOfInode = new HashMap<>();
    for (long pid : candidates) {
      try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
        fds.forEach(fd -> {
          try {
            String link = Files.readSymbolicLink(fd).toString();
            if (link.startsWith("socket:[")) {
              pidOfInode.put(link.substring(8, link.length() - 1), pid);
            }
          } catch (IOException | RuntimeException e) {
            // closed meanwhile
          }
        });
      } catch (IOException | RuntimeException e) {
        // not this process (gone, or no /proc)
      }
    }
    Map<Long, Long> pids = new HashMap<>();
    for (Call call : calls) {
      String inode = inodeOfPort.get(call.callerPort);
      pids.put(call.seq, inode == null ? -1L : pidOfInode.getOrDefault(inode, -1L));
    }
    return pids;
  }

  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // best effort at the end of a test
    }
  }
}
