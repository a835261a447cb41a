package io.flowgate.runs;

import io.flowgate.deployments.Catalog;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes runs from the Redis stream (consumer group {@code workers}, this node's id as consumer) and executes them,
 * at most {@code concurrency} at a time. The blocking {@code XREADGROUP} runs on a connection of its own, never the
 * shared pool. Runs execute on this verticle's event loop (flow nodes are non-blocking; blocking custom nodes go to
 * worker threads). Event-loop only.
 */
public final class RunWorkerVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(RunWorkerVerticle.class);
  private static final int MAX_BATCH = 64;

  private final Supplier<Redis> dedicatedClient;
  private final RunStore store;
  private final RunService service;
  private final Catalog catalog;
  private final RunHistoryRepository history;
  private final String consumer;
  private final int concurrency;
  private final Duration block;
  private Redis client;
  private RedisConnection connection;
  private int inFlight;
  private boolean reading;
  private boolean stopped;
  private int failures;
  private Promise<Void> drained;

  public RunWorkerVerticle(Supplier<Redis> dedicatedClient, RunStore store, RunService service, Catalog catalog,
      RunHistoryRepository history, String nodeId, int concurrency, Duration block) {
    this.dedicatedClient = dedicatedClient;
    this.store = store;
    this.service = service;
    this.catalog = catalog;
    this.history = history;
    this.consumer = nodeId;
    this.concurrency = concurrency;
    this.block = block;
  }

  @Override
  public Future<?> start() {
    return ensureGroup().compose(v -> connect()).onSuccess(v -> {
      // Entries delivered to this consumer before a restart and never acknowledged come first.
      read("0");
    });
  }

  private Future<Void> ensureGroup() {
    return store.redis().send(Request.cmd(Command.XGROUP).arg("CREATE").arg(store.streamKey()).arg(RunStore.GROUP)
        .arg("0").arg("MKSTREAM"))
        .<Void>mapEmpty()
        .recover(e -> e.getMessage() != null && e.getMessage().startsWith("BUSYGROUP")
            ? Future.succeededFuture() : Future.failedFuture(e));
  }

  private Future<Void> connect() {
    client = dedicatedClient.get();
    return client.connect().map(conn -> {
      connection = conn;
      conn.exceptionHandler(e -> LOG.debug("run queue connection error: {}", e.getMessage()));
      return null;
    });
  }

  private void read(String from) {
    if (stopped || reading || inFlight >= concurrency) {
      return;
    }
    reading = true;
    int count = Math.min(MAX_BATCH, concurrency - inFlight);
    Request xread = Request.cmd(Command.XREADGROUP).arg("GROUP").arg(RunStore.GROUP).arg(consumer)
        .arg("COUNT").arg(count);
    if (">".equals(from)) {
      xread.arg("BLOCK").arg(block.toMillis());
    }
    xread.arg("STREAMS").arg(store.streamKey()).arg(from);
    connection.send(xread).onComplete(ar -> {
      reading = false;
      if (stopped) {
        return;
      }
      if (ar.failed()) {
        onReadFailure(ar.cause());
        return;
      }
      failures = 0;
      int taken = dispatch(ar.result());
      // After the backlog of our own pending entries is empty, read new ones.
      read(">".equals(from) || taken == 0 ? ">" : "0");
    });
  }

  private void onReadFailure(Throwable e) {
    String message = e.getMessage() == null ? e.toString() : e.getMessage();
    long delay = Math.min(5_000, 100L << Math.min(failures++, 6));
    if (message.startsWith("NOGROUP")) {
      LOG.warn("run queue group missing (Redis lost its data?): re-creating it");
      vertx.setTimer(10, t -> ensureGroup().onComplete(x -> read(">")));
      return;
    }
    LOG.warn("reading the run queue failed ({}); retrying in {} ms", message, delay);
    vertx.setTimer(delay, t -> {
      if (client != null) {
        client.close();
      }
      connect().onComplete(x -> {
        if (x.failed()) {
          onReadFailure(x.cause());
        } else {
          read("0");
        }
      });
    });
  }

  /** Starts every entry of an XREADGROUP reply; returns how many there were. */
  private int dispatch(Response reply) {
    if (reply == null || reply.size() == 0) {
      return 0;
    }
    int taken = 0;
    // RESP2: [[stream, [[id, [field, value, ...]], ...]]]
    for (Response stream : reply) {
      Response entries = stream.get(1);
      if (entries == null) {
        continue;
      }
      for (Response entry : entries) {
        String entryId = entry.get(0).toString();
        Response fields = entry.get(1);
        taken++;
        if (fields == null || fields.size() < 2) {
          // Trimmed or deleted under us: nothing to run, just acknowledge.
          store.finish("-", RunStatus.CANCELLED, Instant.now(), new JsonObject(), entryId);
          continue;
        }
        String runId = fields.get(1).toString();
        inFlight++;
        process(entryId, runId).onComplete(ar -> {
          if (ar.failed()) {
            LOG.warn("run {} could not be finished: {}", runId, ar.cause().getMessage());
          }
          inFlight--;
          if (stopped && inFlight == 0 && drained != null) {
            drained.tryComplete();
          }
          read(">");
        });
      }
    }
    return taken;
  }

  private Future<Void> process(String entryId, String runId) {
    Instant started = Instant.now();
    return store.start(runId, started, consumer).compose(claimed -> {
      if (claimed == null) {
        // Already ended (cancelled, timed out) or past retention: acknowledge and move on.
        return store.finish(runId, RunStatus.CANCELLED, Instant.now(), new JsonObject(), entryId).mapEmpty();
      }
      long remainingMs = claimed.deadlineEpochMs() - System.currentTimeMillis();
      Duration timeout = Duration.between(Instant.parse(claimed.createdAt()),
          Instant.ofEpochMilli(claimed.deadlineEpochMs()));
      JsonObject input = new JsonObject(claimed.input());
      return catalog.plan(UUID.fromString(claimed.flowId()), Integer.parseInt(claimed.flowVersion()))
          .compose(plan -> service.execute(plan, input, runId,
              System.nanoTime() + Math.max(1, remainingMs) * 1_000_000L, timeout))
          .recover(e -> Future.succeededFuture(new RunService.Outcome(RunStatus.FAILED, null,
              new JsonObject().put("message", "The run could not start: " + e.getMessage()))))
          .compose(outcome -> {
            Instant finished = Instant.now();
            JsonObject output = outcome.result() == null ? null : outcome.result().outputData();
            JsonObject nodes = outcome.result() == null ? new JsonObject() : outcome.result().nodeOutputs();
            return store.finish(runId, outcome.status(), finished, Run.result(output, nodes, outcome.error()), entryId)
                .map(won -> {
                  if (won) {
                    history.record(new Run(runId, UUID.fromString(claimed.profileId()),
                        UUID.fromString(claimed.deploymentId()), UUID.fromString(claimed.flowId()),
                        Integer.valueOf(claimed.flowVersion()), claimed.mode(), "api",
                        outcome.status(), Instant.parse(claimed.createdAt()), started, finished, output, nodes,
                        outcome.error()));
                  }
                  return null;
                });
          });
    });
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    Future<Void> wait = Future.succeededFuture();
    if (inFlight > 0) {
      drained = Promise.promise();
      wait = drained.future().timeout(10, java.util.concurrent.TimeUnit.SECONDS).recover(e -> Future.succeededFuture());
    }
    return wait.compose(v -> client == null ? Future.succeededFuture() : client.close());
  }
}
