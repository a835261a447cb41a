package io.flowgate.runs;

import io.flowgate.backends.RedisStreams;
import io.flowgate.config.GatewayConfig;
import io.flowgate.deployments.Catalog;
import io.flowgate.flow.RunControl;
import io.flowgate.webhooks.WebhookEvents;
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
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One event loop's share of the run queue, and this node's upkeep. A node deploys one per event loop, so that its
 * runs execute on all of them (one instance used to execute every queued run of the node on one loop, while the other
 * loops only accepted). Each takes runs from the Redis stream (consumer group {@code workers}; the node's id as
 * consumer for the first instance, {@code <node id>/<n>} for the others, stable across restarts so that each finds its
 * own unstarted deliveries again; the blocking {@code XREADGROUP} on a connection of its own, never the shared pool)
 * and executes at most its share of {@code worker_concurrency} at a time. The first instance also renews the leases
 * of the runs executing on the node (heartbeat) and, like every node, keeps the cluster's promises: runs whose lease
 * expired go back on the queue, runs past their deadline end {@code timed_out}, and runs PostgreSQL accepted but Redis
 * lost are restored. Every instance claims entries stuck with a dead consumer. Runs execute on the instance's event
 * loop (flow nodes are non-blocking; blocking custom nodes go to worker threads). Event-loop only.
 */
public final class RunWorkerVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(RunWorkerVerticle.class);
  private static final int MAX_BATCH = 64;
  private static final int UPKEEP_BATCH = 200;

  private final Supplier<Redis> dedicatedClient;
  private final RunStore store;
  private final RunService service;
  private final Catalog catalog;
  private final RunHistoryRepository history;
  private final String nodeId;
  private final String consumer;
  private final boolean upkeep;
  private final int concurrency;
  private final GatewayConfig.Runs config;
  private Redis client;
  private RedisConnection connection;
  private int inFlight;
  private boolean reading;
  private boolean stopped;
  private int failures;
  private Promise<Void> drained;

  /**
   * Instance {@code index} of {@code instances} of the node {@code nodeId}: it reads as its own consumer and executes
   * its share of {@code worker_concurrency}; instance 0 also does the node's upkeep.
   */
  public RunWorkerVerticle(Supplier<Redis> dedicatedClient, RunStore store, RunService service, Catalog catalog,
      RunHistoryRepository history, String nodeId, GatewayConfig.Runs config, int index, int instances) {
    this.dedicatedClient = dedicatedClient;
    this.store = store;
    this.service = service;
    this.catalog = catalog;
    this.history = history;
    this.nodeId = nodeId;
    this.consumer = index == 0 ? nodeId : nodeId + "/" + index;
    this.upkeep = index == 0;
    int share = config.workerConcurrency() / instances;
    this.concurrency = Math.max(1, index == 0 ? config.workerConcurrency() - share * (instances - 1) : share);
    this.config = config;
  }

  @Override
  public Future<?> start() {
    return ensureGroup().compose(v -> connect()).onSuccess(v -> {
      // Entries delivered to this consumer before a restart and never started come first.
      read("0");
      vertx.setPeriodic(Math.max(100, config.claimIdle().toMillis() / 2), t -> claimStuck());
      if (upkeep) {
        vertx.setPeriodic(config.heartbeat().toMillis(), t -> service.heartbeat()
            .onFailure(e -> LOG.warn("heartbeat failed: {}", e.getMessage())));
        vertx.setPeriodic(config.reapInterval().toMillis(), t -> reap());
        vertx.setPeriodic(config.reconcileInterval().toMillis(), t -> reconcile());
      }
    });
  }

  private Future<Void> ensureGroup() {
    return RedisStreams.ensureGroup(store.redis(), store.streamKey(), RunStore.GROUP);
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
      xread.arg("BLOCK").arg(config.queueBlock().toMillis());
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
      int taken = 0;
      Response reply = ar.result();
      if (reply != null) {
        // RESP2: [[stream, [[id, [field, value, ...]], ...]]]
        for (Response stream : reply) {
          taken += dispatch(stream.get(1));
        }
      }
      // Once the backlog of our own earlier deliveries is empty, read new ones.
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

  /** Starts every entry of a list of stream entries; returns how many there were. */
  private int dispatch(Response entries) {
    if (entries == null) {
      return 0;
    }
    int taken = 0;
    for (Response entry : entries) {
      if (entry == null || entry.size() < 1) {
        continue;
      }
      String entryId = entry.get(0).toString();
      Response fields = entry.size() > 1 ? entry.get(1) : null;
      taken++;
      String runId = fields == null || fields.size() < 2 ? null : fields.get(1).toString();
      inFlight++;
      process(entryId, runId).onComplete(ar -> {
        if (ar.failed()) {
          LOG.warn("run {} could not be processed: {}", runId, ar.cause().getMessage());
        }
        inFlight--;
        if (stopped && inFlight == 0 && drained != null) {
          drained.tryComplete();
        }
        read(">");
      });
    }
    return taken;
  }

  private Future<Void> process(String entryId, String runId) {
    if (runId == null) {
      // Trimmed or deleted under us: nothing to run; acknowledge it away.
      return store.redis().send(Request.cmd(Command.XACK).arg(store.streamKey()).arg(RunStore.GROUP).arg(entryId))
          .mapEmpty();
    }
    Instant started = Instant.now();
    // The lease is the node's (its heartbeat renews it), whichever of its instances executes the run.
    return store.start(runId, entryId, started, nodeId, service.leaseExpiry(), config.maxDeliveries())
        .compose(start -> {
          if (start.claimed() == null) {
            if ("dead".equals(start.refusal())) {
              LOG.warn("run {} used up its {} deliveries: ended failed", runId, config.maxDeliveries());
              return store.load(runId).map(run -> {
                if (run != null) {
                  history.record(run);
                }
                return null;
              });
            }
            // Ended already (cancelled, timed out) or past retention: nothing to do.
            return Future.succeededFuture();
          }
          return execute(runId, start.claimed(), started);
        });
  }

  private Future<Void> execute(String runId, RunStore.Claimed c, Instant started) {
    Run run = new Run(runId, UUID.fromString(c.profileId()), UUID.fromString(c.deploymentId()),
        c.flowId() == null || c.flowId().isEmpty() ? null : UUID.fromString(c.flowId()),
        c.flowVersion() == null || c.flowVersion().isEmpty() ? null : Integer.valueOf(c.flowVersion()),
        c.mode(), c.type(), RunStatus.RUNNING, Timestamps.parse(c.createdAt()), started, null, null, null, null,
        // From the run's hash, not this node's memory: the node that accepted the run may be another.
        c.apiKeyId() == null || c.apiKeyId().isEmpty() ? null : UUID.fromString(c.apiKeyId()));
    Duration timeout = Duration.ofMillis(c.deadlineEpochMs() - run.createdAt().toEpochMilli());
    long remainingMs = c.deadlineEpochMs() - System.currentTimeMillis();
    RunControl control = new RunControl();
    service.hold(runId, c.attempt(), control);
    return catalog.plan(run.flowId(), run.flowVersion())
        .compose(plan -> service.execute(plan, new JsonObject(c.input()), runId, run.profileId(), control,
            System.nanoTime() + Math.max(1, remainingMs) * 1_000_000L, timeout))
        .recover(e -> Future.succeededFuture(new RunService.Outcome(RunStatus.FAILED, null,
            new JsonObject().put("message", "The run could not start: " + e.getMessage()))))
        .compose(outcome -> service.finish(run, started,
            c.startedAt() == null || c.startedAt().isEmpty() ? started : Timestamps.parse(c.startedAt()), outcome,
            c.attempt()))
        .<Void>mapEmpty()
        .andThen(ar -> service.release(runId));
  }

  /** Runs whose lease expired go back on the queue; runs past their deadline end timed_out. */
  private void reap() {
    if (stopped) {
      return;
    }
    long now = System.currentTimeMillis();
    store.expiredLeases(now, UPKEEP_BATCH).onSuccess(ids -> {
      for (String id : ids) {
        store.requeue(id, now).onSuccess(requeued -> {
          if (requeued) {
            LOG.info("run {} lost its worker (lease expired): queued again", id);
          }
        });
      }
    });
    store.pastDeadline(now, UPKEEP_BATCH).onSuccess(ids -> {
      for (String id : ids) {
        service.timeOut(id, null);
      }
    });
  }

  /**
   * Queue entries delivered to a consumer that died before starting them sit in the group's pending list; take
   * those idle longer than {@code claim_idle_ms}.
   */
  private void claimStuck() {
    if (stopped || inFlight >= concurrency) {
      return;
    }
    store.redis().send(Request.cmd(Command.XAUTOCLAIM).arg(store.streamKey()).arg(RunStore.GROUP).arg(consumer)
            .arg(config.claimIdle().toMillis()).arg("0-0").arg("COUNT")
            .arg(Math.min(MAX_BATCH, concurrency - inFlight)))
        .onSuccess(reply -> {
          if (reply != null && reply.size() >= 2 && reply.get(1) != null && reply.get(1).size() > 0) {
            LOG.info("claimed {} queue entries left by a stopped consumer", reply.get(1).size());
            dispatch(reply.get(1));
          }
        })
        .onFailure(e -> LOG.debug("XAUTOCLAIM failed: {}", e.getMessage()));
  }

  /**
   * PostgreSQL is the record of accepted runs: an open run that Redis has lost is put back on the queue; one that
   * Redis saw end is written to PostgreSQL (its node died before the history flush).
   */
  private void reconcile() {
    if (stopped) {
      return;
    }
    Instant cutoff = Instant.now().minus(config.reconcileGrace());
    history.openRuns(cutoff, UPKEEP_BATCH).onSuccess(open -> {
      for (RunHistoryRepository.OpenRun o : open) {
        store.status(o.run().id()).onSuccess(status -> {
          RunStatus s = RunStatus.fromWire(status);
          if (s == null) {
            if (o.run().createdAt().isBefore(Instant.now().minus(config.stateTtl()))) {
              history.record(new Run(o.run().id(), o.run().profileId(), o.run().deploymentId(), o.run().flowId(),
                  o.run().flowVersion(), o.run().mode(), o.run().type(), RunStatus.FAILED, o.run().createdAt(), null,
                  Instant.now(), null, new JsonObject(), new JsonObject().put("message",
                      "The run's state was lost before it ended."), o.run().apiKeyId()));
              return;
            }
            // Restored with the webhook events its deployment subscribes to: its events (same message ids) follow.
            catalog.deployment(o.run().deploymentId())
                .compose(d -> store.restore(o.run(), o.input() == null ? new JsonObject() : o.input(),
                    o.originNode(), o.deadlineEpochMs(), d == null ? "" : WebhookEvents.flags(d.notification())))
                .onSuccess(restored -> {
                  if (restored) {
                    LOG.warn("run {} was accepted but missing from Redis: queued again", o.run().id());
                  }
                })
                .onFailure(e -> LOG.debug("restoring run {} failed: {}", o.run().id(), e.getMessage()));
          } else if (s.terminal()) {
            store.load(o.run().id()).onSuccess(run -> {
              if (run != null) {
                history.record(run);
              }
            });
          }
        });
      }
    }).onFailure(e -> LOG.debug("reconcile skipped: {}", e.getMessage()));
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    Future<Void> wait = Future.succeededFuture();
    if (inFlight > 0) {
      drained = Promise.promise();
      wait = drained.future().timeout(10, TimeUnit.SECONDS).recover(e -> Future.succeededFuture());
    }
    return wait.compose(v -> client == null ? Future.succeededFuture() : client.close());
  }
}
