package io.flowgate.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A Jepsen-style ledger of triggers (RELIABILITY §2.1): every trigger carries a unique probe id in its
 * {@code input_data}; the ledger records what each one got back (HTTP status, {@code flow_run_id}, latency), then,
 * after the fault, drains (long-polls every accepted run until it is terminal, within a hard deadline) and checks:
 * <ul>
 *   <li>{@code lost} = accepted runs (distinct ids of 200/202 replies) that never reached a terminal status: must be 0;
 *   <li>{@code dup_terminal} = runs whose terminal state changed after it was first seen (status, finish time or
 *       output, read again from every node), whose nodes disagree, or whose PostgreSQL history row is missing,
 *       doubled or disagrees: must be 0;
 *   <li>{@code dup_exec} = probes the flow executed more than once (the {@link ProbeServer} side-effect table):
 *       allowed (at-least-once), reported;
 *   <li>{@code unexpected} = side effects of probes never acknowledged (and not indeterminate), plus history rows of
 *       the ledger's deployments whose id no client was given, unless their trigger was indeterminate or was refused
 *       and the row has ended (reported as {@code refused_but_recorded}): must be 0.
 * </ul>
 * A trigger whose connection failed or timed out is <em>indeterminate</em> (status -1): it may or may not have been
 * accepted. Thread-safe; blocking calls from test threads only.
 */
public final class Ledger {

  /** What one trigger got. {@code status} is -1 when the request failed without an HTTP answer. */
  public record Entry(String probe, String node, String deploymentId, String apiKey, int status, String runId,
      String code, String retryAfter, String contentType, String location, long sentAtNanos, long latencyNanos) {

    public boolean accepted() {
      return (status == 200 || status == 202) && runId != null;
    }

    public boolean indeterminate() {
      return status < 0;
    }

    public double latencyMs() {
      return latencyNanos / 1e6;
    }
  }

  /** The figures of a drained ledger. */
  public record Report(String name, int triggered, int acceptedReplies, int accepted, Map<String, Integer> replies,
      int indeterminate, int terminal, int lost, int dupTerminal, int dupExec, int unexpected, double p50Ms,
      double p99Ms, Map<String, Integer> terminalStatuses, Map<String, Integer> refusedButRecorded,
      List<String> problems) {

    /** The one line printed to the test output. */
    public String line() {
      return String.format(Locale.ROOT, "ledger: name=%s triggered=%d accepted=%d terminal=%d lost=%d"
              + " dup_terminal=%d dup_exec=%d unexpected=%d indeterminate=%d p50=%.1fms p99=%.1fms replies=%s"
              + " terminal_statuses=%s refused_but_recorded=%s", name, triggered, accepted, terminal, lost, dupTerminal,
          dupExec, unexpected, indeterminate, p50Ms, p99Ms, replies, terminalStatuses, refusedButRecorded);
    }

    /** lost = 0, dup_terminal = 0, unexpected = 0; the problems found are the failure message. */
    public Report assertNoLossAndOneTerminalStatePerRun() {
      String detail = line() + (problems.isEmpty() ? "" : "\n  " + String.join("\n  ",
          problems.subList(0, Math.min(40, problems.size()))));
      assertThat(accepted).as("runs accepted at all: " + detail).isPositive();
      assertThat(lost).as("accepted runs that never reached a terminal status: " + detail).isZero();
      assertThat(dupTerminal).as("runs with more than one terminal state: " + detail).isZero();
      assertThat(unexpected).as("runs or side effects nobody was told about: " + detail).isZero();
      return this;
    }
  }

  private static final Set<String> TERMINAL = Set.of("completed", "failed", "timed_out", "cancelled");

  private final String name;
  private final AtomicInteger nextProbe = new AtomicInteger();
  private final List<Entry> entries = new CopyOnWriteArrayList<>();
  private final Map<String, JsonObject> firstTerminal = new ConcurrentHashMap<>();
  private final Map<String, Long> terminalSeenAtNanos = new ConcurrentHashMap<>();
  private final List<String> problems = new CopyOnWriteArrayList<>();
  private final Set<String> duplicateTerminal = ConcurrentHashMap.newKeySet();
  private final ConcurrentSkipListMap<Long, String> marks =
      new ConcurrentSkipListMap<>();
  private volatile int unexpectedHistory;
  private volatile Map<String, Integer> refusedButRecorded = Map.of();

  /** A ledger whose probe ids are {@code <name>-<n>}. */
  public Ledger(String name) {
    this.name = name;
  }

  public String name() {
    return name;
  }

  /** A fresh probe id of this ledger. */
  public String nextProbe() {
    return name + "-" + nextProbe.incrementAndGet();
  }

  /** {@code {"input_data": {"probe": "<probe>"}}}. */
  public static String body(String probe) {
    return new JsonObject().put("input_data", new JsonObject().put("probe", probe)).encode();
  }

  /**
   * Triggers {@code deploymentId} through {@code node} with a fresh probe and an {@code Idempotency-Key} equal to
   * the probe id, and records the outcome.
   */
  public Entry trigger(GatewayProcess node, String deploymentId, String apiKey, String... extraHeaders) {
    String probe = nextProbe();
    String[] headers = new String[extraHeaders.length + 2];
    headers[0] = "Idempotency-Key";
    headers[1] = probe;
    System.arraycopy(extraHeaders, 0, headers, 2, extraHeaders.length);
    return trigger(node.nodeId(), node.http(), deploymentId, apiKey, probe, body(probe), headers);
  }

  /** Sends one trigger with the given body and headers, and records the outcome (connection failure: -1). */
  public Entry trigger(String nodeId, TestHttp http, String deploymentId, String apiKey, String probe, String body,
      String... headers) {
    long sent = System.nanoTime();
    Entry entry;
    try {
      Reply r = http.trigger(deploymentId, apiKey, body, headers);
      long latency = System.nanoTime() - sent;
      String runId = null;
      String code = null;
      try {
        JsonObject json = r.json();
        JsonObject data = json.getJsonObject("data");
        runId = data == null ? null : data.getString("flow_run_id");
        code = json.getString("code");
      } catch (RuntimeException e) {
        code = "unparseable";
      }
      entry = new Entry(probe, nodeId, deploymentId, apiKey, r.status(), runId, code, r.header("Retry-After"),
          r.header("Content-Type"), r.header("Location"), sent, latency);
    } catch (IllegalStateException e) {
      entry = new Entry(probe, nodeId, deploymentId, apiKey, -1, null, e.getCause() == null ? e.toString()
          : e.getCause().getClass().getSimpleName(), null, null, null, sent, System.nanoTime() - sent);
    }
    entries.add(entry);
    return entry;
  }

  /** Notes a moment of the scenario (e.g. "kill"), so problems can say when their trigger was sent. */
  public void mark(String event) {
    marks.put(System.nanoTime(), event);
  }

  /** The entry, with when it was sent relative to the last mark before it. */
  public String describe(Entry e) {
    Map.Entry<Long, String> mark = marks.floorEntry(e.sentAtNanos());
    String when = mark == null ? "" : String.format(Locale.ROOT, ", sent %d ms after %s",
        TimeUnit.NANOSECONDS.toMillis(e.sentAtNanos() - mark.getKey()), mark.getValue());
    return String.format(Locale.ROOT, "%s via %s: %d %s in %.0f ms%s", e.probe(), e.node(), e.status(),
        e.code(), e.latencyMs(), when);
  }

  /** Records an outcome obtained elsewhere (e.g. a trigger sent with another client). */
  public void record(Entry entry) {
    entries.add(entry);
  }

  public List<Entry> entries() {
    return List.copyOf(entries);
  }

  /** The distinct ids of accepted runs, with the entry that first reported each. */
  public Map<String, Entry> acceptedRuns() {
    Map<String, Entry> runs = new LinkedHashMap<>();
    for (Entry e : entries) {
      if (e.accepted()) {
        runs.putIfAbsent(e.runId(), e);
      }
    }
    return runs;
  }

  /** The terminal run (wire {@code data}) as first seen, or null. */
  public JsonObject terminal(String runId) {
    return firstTerminal.get(runId);
  }

  /** When the run was first seen terminal ({@link System#nanoTime()}), or null. */
  public Long terminalSeenAt(String runId) {
    return terminalSeenAtNanos.get(runId);
  }

  /**
   * Long-polls every accepted run ({@code ?wait=}, on the nodes {@code nodes} gives at each call, round-robin) until
   * it is terminal or {@code deadline} has passed. Returns the number still not terminal.
   */
  public int drain(Supplier<List<TestHttp>> nodes, Duration deadline) {
    long end = System.nanoTime() + deadline.toNanos();
    Map<String, Entry> runs = acceptedRuns();
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(16, runs.size())));
    try {
      List<Future<?>> polls = new ArrayList<>();
      AtomicInteger turn = new AtomicInteger();
      for (Map.Entry<String, Entry> run : runs.entrySet()) {
        polls.add(pool.submit(() -> pollUntilTerminal(run.getKey(), run.getValue().apiKey(), nodes, turn, end)));
      }
      for (Future<?> f : polls) {
        f.get(deadline.toMillis() + 30_000, TimeUnit.MILLISECONDS);
      }
    } catch (Exception e) {
      throw new IllegalStateException("draining the ledger failed: " + e, e);
    } finally {
      pool.shutdownNow();
    }
    return (int) runs.keySet().stream().filter(id -> !firstTerminal.containsKey(id)).count();
  }

  private void pollUntilTerminal(String runId, String apiKey, Supplier<List<TestHttp>> nodes, AtomicInteger turn,
      long end) {
    while (!firstTerminal.containsKey(runId)) {
      long left = TimeUnit.NANOSECONDS.toSeconds(end - System.nanoTime());
      if (left <= 0) {
        return;
      }
      List<TestHttp> live = nodes.get();
      TestHttp http = live.get(Math.floorMod(turn.getAndIncrement(), live.size()));
      try {
        Reply r = http.send("GET", "/node/flow-runs/" + runId + "/?wait=" + Math.min(10, Math.max(1, left)), null,
            "X-API-Key", apiKey);
        if (r.status() == 200) {
          JsonObject data = r.data();
          if (TERMINAL.contains(data.getString("status"))) {
            firstTerminal.putIfAbsent(runId, data);
            terminalSeenAtNanos.putIfAbsent(runId, System.nanoTime());
            return;
          }
        } else {
          pause(200); // 503 while a store is down, 404 if lost: try again until the deadline
        }
      } catch (IllegalStateException e) {
        pause(200); // that node is gone or stalled: the next call goes to another
      }
    }
  }

  /**
   * Reads every terminal run again from each of {@code nodes} and compares it with its first terminal reading:
   * status, {@code finished_at} and {@code output_data} must not have changed (a second terminal transition would
   * change them). Each difference counts the run in {@code dup_terminal}.
   */
  public void verifyTerminalStatesUnchanged(Collection<TestHttp> nodes) {
    Map<String, Entry> runs = acceptedRuns();
    for (Map.Entry<String, JsonObject> t : firstTerminal.entrySet()) {
      String apiKey = runs.get(t.getKey()).apiKey();
      int i = 0;
      for (TestHttp http : nodes) {
        i++;
        Reply r;
        try {
          r = http.send("GET", "/node/flow-runs/" + t.getKey() + "/", null, "X-API-Key", apiKey);
        } catch (IllegalStateException e) {
          problem(t.getKey(), "node " + i + " did not answer: " + e.getMessage());
          continue;
        }
        if (r.status() != 200) {
          problem(t.getKey(), "node " + i + " answered " + r);
          continue;
        }
        JsonObject first = t.getValue();
        JsonObject now = r.data();
        for (String field : List.of("status", "finished_at", "output_data")) {
          if (!Objects.equals(first.getValue(field), now.getValue(field))) {
            problem(t.getKey(), "node " + i + ": " + field + " was " + first.getValue(field) + ", now "
                + now.getValue(field));
          }
        }
      }
    }
  }

  /**
   * Waits (up to {@code deadline}) until PostgreSQL's run history has exactly one row per terminal run with the same
   * status; rows that never agree count in {@code dup_terminal}. History rows of the ledger's deployments whose id no
   * client got count as {@code unexpected}, except for indeterminate triggers and ended rows of refused ones.
   */
  public void verifyHistory(String pgUrl, Duration deadline) {
    Set<String> deployments = new LinkedHashSet<>();
    entries.forEach(e -> deployments.add(e.deploymentId()));
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    Pool pool = PgBuilder.pool().connectingTo(pgUrl).with(new PoolOptions().setMaxSize(1)).using(vertx).build();
    try {
      long end = System.nanoTime() + deadline.toNanos();
      List<String> disagreements;
      Map<String, List<String>> rows;
      do {
        rows = historyRows(pool, deployments);
        disagreements = new ArrayList<>();
        for (Map.Entry<String, JsonObject> t : firstTerminal.entrySet()) {
          List<String> statuses = rows.getOrDefault(t.getKey(), List.of());
          String expected = t.getValue().getString("status");
          if (statuses.size() != 1 || !statuses.get(0).equals(expected)) {
            disagreements.add(t.getKey() + ": history rows " + statuses + ", the API says " + expected);
          }
        }
        if (!disagreements.isEmpty()) {
          pause(200);
        }
      } while (!disagreements.isEmpty() && System.nanoTime() < end);
      for (String d : disagreements) {
        problem(d.substring(0, d.indexOf(':')), d.substring(d.indexOf(':') + 2));
      }
      // A row no client got an id for is fine for an indeterminate trigger (it may have been accepted). For a
      // refused one (503) it must not run: a row still queued or running would be picked up by the reconciler.
      Set<String> known = new HashSet<>();
      Map<String, Entry> byProbe = new HashMap<>();
      entries.forEach(e -> {
        if (e.runId() != null) {
          known.add(e.runId());
        }
        byProbe.putIfAbsent(e.probe(), e);
      });
      List<String> unexpectedRows = new ArrayList<>();
      Map<String, Integer> refused = new TreeMap<>();
      for (HistoryRow row : historyRowList(pool, deployments)) {
        if (known.contains(row.id())) {
          continue;
        }
        Entry trigger = row.probe() == null ? null : byProbe.get(row.probe());
        if (trigger != null && trigger.indeterminate()) {
          continue;
        }
        if (trigger != null && !trigger.accepted() && TERMINAL.contains(row.status())) {
          refused.merge(row.status(), 1, Integer::sum);
          continue;
        }
        unexpectedRows.add(row.id() + " (" + row.status() + ", probe " + row.probe() + ", trigger "
            + (trigger == null ? "none" : describe(trigger)) + ")");
      }
      refusedButRecorded = refused;
      unexpectedHistory = unexpectedRows.size();
      if (!unexpectedRows.isEmpty()) {
        problems.add("history rows no client was told about, not ended: " + unexpectedRows);
      }
    } finally {
      pool.close();
      vertx.close();
    }
  }

  /**
   * The run history rows (status per run id) of {@code deploymentIds}, read again every 200 ms until {@code until}
   * holds or {@code wait} has passed (history is written in batches).
   */
  public static Map<String, List<String>> historyRows(String pgUrl, Set<String> deploymentIds, Duration wait,
      Predicate<Map<String, List<String>>> until) {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    Pool pool = PgBuilder.pool().connectingTo(pgUrl).with(new PoolOptions().setMaxSize(1)).using(vertx).build();
    try {
      long end = System.nanoTime() + wait.toNanos();
      Map<String, List<String>> rows = historyRows(pool, deploymentIds);
      while (!until.test(rows) && System.nanoTime() < end) {
        pause(200);
        rows = historyRows(pool, deploymentIds);
      }
      return rows;
    } finally {
      pool.close();
      vertx.close();
    }
  }

  private static Map<String, List<String>> historyRows(Pool pool, Set<String> deployments) {
    Map<String, List<String>> rows = new HashMap<>();
    historyRowList(pool, deployments).forEach(r -> rows.computeIfAbsent(r.id(), k -> new ArrayList<>())
        .add(r.status()));
    return rows;
  }

  /** One row of run_history: its id, status and the probe of its input (null where the input is not kept). */
  private record HistoryRow(String id, String status, String probe) {}

  private static List<HistoryRow> historyRowList(Pool pool, Set<String> deployments) {
    try {
      List<HistoryRow> rows = new ArrayList<>();
      // to_jsonb(h): the input column may not exist in every schema version; then the probe is null.
      for (Row row : pool.preparedQuery("SELECT h.id::text AS id, h.status, to_jsonb(h) -> 'input_data' ->> 'probe'"
              + " AS probe FROM run_history h WHERE h.deployment_id = ANY($1::uuid[])")
          .execute(Tuple.of((Object) deployments.stream().map(UUID::fromString).toArray(UUID[]::new)))
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)) {
        rows.add(new HistoryRow(row.getString("id"), row.getString("status"), row.getString("probe")));
      }
      return rows;
    } catch (Exception e) {
      throw new IllegalStateException("reading run_history failed: " + e, e);
    }
  }

  private void problem(String runId, String what) {
    duplicateTerminal.add(runId);
    problems.add(runId + ": " + what);
  }

  /** The figures; prints the ledger line to stdout (it lands in the surefire report of the test). */
  public Report report(ProbeServer probes) {
    Map<String, Entry> runs = acceptedRuns();
    Map<String, Integer> replies = new TreeMap<>();
    List<Double> latencies = new ArrayList<>();
    Set<String> acknowledgedProbes = new HashSet<>();
    Set<String> indeterminateProbes = new HashSet<>();
    int acceptedReplies = 0;
    int indeterminate = 0;
    for (Entry e : entries) {
      replies.merge(e.status() < 0 ? "none" : e.status() + (e.code() == null ? "" : " " + e.code()), 1,
          Integer::sum);
      if (e.accepted()) {
        acceptedReplies++;
        latencies.add(e.latencyMs());
        acknowledgedProbes.add(e.probe());
      } else if (e.indeterminate()) {
        indeterminate++;
        indeterminateProbes.add(e.probe());
      }
    }
    Map<String, Integer> statuses = new TreeMap<>();
    firstTerminal.forEach((id, data) -> {
      if (runs.containsKey(id)) {
        statuses.merge(data.getString("status"), 1, Integer::sum);
      }
    });
    int terminal = (int) runs.keySet().stream().filter(firstTerminal::containsKey).count();
    List<String> lostRuns = runs.keySet().stream().filter(id -> !firstTerminal.containsKey(id)).toList();
    List<String> allProblems = new ArrayList<>(problems);
    if (!lostRuns.isEmpty()) {
      allProblems.add(0, "not terminal: " + lostRuns);
    }
    int dupExec = 0;
    int unexpected = unexpectedHistory;
    for (Map.Entry<String, Integer> c : probes.counts().entrySet()) {
      if (!c.getKey().startsWith(name + "-")) {
        continue;
      }
      if (c.getValue() > 1) {
        dupExec++;
      }
      if (!acknowledgedProbes.contains(c.getKey()) && !indeterminateProbes.contains(c.getKey())) {
        unexpected++;
        Entry trigger = entries.stream().filter(e -> e.probe().equals(c.getKey())).findFirst().orElse(null);
        allProblems.add("side effect of a probe nobody was given a run for: " + c.getKey() + " (executed "
            + c.getValue() + "x; trigger " + (trigger == null ? "never sent" : describe(trigger)) + ")");
      }
    }
    latencies.sort(Double::compare);
    Report report = new Report(name, entries.size(), acceptedReplies, runs.size(), replies, indeterminate, terminal,
        lostRuns.size(), duplicateTerminal.size(), dupExec, unexpected, percentile(latencies, 0.50),
        percentile(latencies, 0.99), statuses, refusedButRecorded, allProblems);
    System.out.println(report.line());
    return report;
  }

  private static double percentile(List<Double> sorted, double q) {
    if (sorted.isEmpty()) {
      return 0;
    }
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
