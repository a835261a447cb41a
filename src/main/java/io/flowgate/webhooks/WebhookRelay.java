package io.flowgate.webhooks;

import io.flowgate.backends.RedisStreams;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves run events from the Redis outbox stream (where the run store's transitions append them atomically) into
 * PostgreSQL's delivery queue: reads with the consumer group {@code relay} (this node's id as consumer, the blocking
 * {@code XREADGROUP} on a connection of its own), builds each event's payload from the run, inserts them in one
 * statement and only then acknowledges and deletes the entries. A node that dies between the two leaves its entries
 * pending: it reads them again at restart, and any node claims them after {@code relay_claim_idle_ms}; the insert
 * keeps one delivery per message id. Event-loop only (the verticle's).
 */
final class WebhookRelay {
  static final String GROUP = "relay";
  private static final Logger LOG = LoggerFactory.getLogger(WebhookRelay.class);
  private static final int BATCH = 100;

  private final Vertx vertx;
  private final Redis redis;
  private final Supplier<Redis> dedicatedClient;
  private final String outboxKey;
  private final String consumer;
  private final WebhookDeliveryRepository deliveries;
  private final Function<String, Future<JsonObject>> runs;
  private final Duration block;
  private final Duration claimIdle;
  private final Runnable onStored;
  private Redis client;
  private RedisConnection connection;
  private boolean stopped;
  private boolean claiming;
  private int failures;

  /**
   * @param runs a run's wire form by id (null when neither store has it)
   * @param onStored called after a batch is stored: deliveries are due
   */
  WebhookRelay(Vertx vertx, Redis redis, Supplier<Redis> dedicatedClient, String prefix, String consumer,
      WebhookDeliveryRepository deliveries, Function<String, Future<JsonObject>> runs, Duration block,
      Duration claimIdle, Runnable onStored) {
    this.vertx = vertx;
    this.redis = redis;
    this.dedicatedClient = dedicatedClient;
    this.outboxKey = WebhookEvents.outboxKey(prefix);
    this.consumer = consumer;
    this.deliveries = deliveries;
    this.runs = runs;
    this.block = block;
    this.claimIdle = claimIdle;
    this.onStored = onStored;
  }

  Future<Void> start() {
    return ensureGroup().compose(v -> connect()).onSuccess(v -> read("0"));
  }

  private Future<Void> ensureGroup() {
    return RedisStreams.ensureGroup(redis, outboxKey, GROUP);
  }

  private Future<Void> connect() {
    client = dedicatedClient.get();
    return client.connect().map(conn -> {
      connection = conn;
      conn.exceptionHandler(e -> LOG.debug("outbox connection error: {}", e.getMessage()));
      return null;
    });
  }

  /** Reads from {@code from}: "0" for this consumer's own unacknowledged entries, ">" for new ones. */
  private void read(String from) {
    if (stopped) {
      return;
    }
    Request xread = Request.cmd(Command.XREADGROUP).arg("GROUP").arg(GROUP).arg(consumer).arg("COUNT").arg(BATCH);
    if (">".equals(from)) {
      xread.arg("BLOCK").arg(block.toMillis());
    }
    xread.arg("STREAMS").arg(outboxKey).arg(from);
    connection.send(xread)
        .compose(reply -> {
          List<Response> entries = new ArrayList<>();
          if (reply != null) {
            // RESP2: [[stream, [[id, [field, value, ...]], ...]]]
            for (Response stream : reply) {
              Response list = stream.get(1);
              if (list != null) {
                list.forEach(entries::add);
              }
            }
          }
          return relay(entries).map(entries.size());
        })
        .onComplete(ar -> {
          if (stopped) {
            return;
          }
          if (ar.failed()) {
            onFailure(ar.cause());
            return;
          }
          failures = 0;
          // Our own backlog first (entries read before a restart or a failed insert), then new ones.
          read(">".equals(from) || ar.result() == 0 ? ">" : "0");
        });
  }

  private void onFailure(Throwable e) {
    String message = e.getMessage() == null ? e.toString() : e.getMessage();
    long delay = Math.min(5_000, 100L << Math.min(failures++, 6));
    if (message.startsWith("NOGROUP")) {
      LOG.warn("webhook outbox group missing (Redis lost its data?): re-creating it");
      vertx.setTimer(10, t -> ensureGroup().onComplete(x -> read("0")));
      return;
    }
    LOG.warn("relaying webhook events failed ({}); retrying in {} ms", message, delay);
    vertx.setTimer(delay, t -> {
      if (stopped) {
        return;
      }
      if (client != null) {
        client.close();
      }
      connect().onComplete(x -> {
        if (x.failed()) {
          onFailure(x.cause());
        } else {
          read("0");
        }
      });
    });
  }

  /** Takes over entries that a silent (crashed) node read and never acknowledged. */
  void claimStuck() {
    if (stopped || claiming) {
      return;
    }
    claiming = true;
    redis.send(Request.cmd(Command.XAUTOCLAIM).arg(outboxKey).arg(GROUP).arg(consumer).arg(claimIdle.toMillis())
            .arg("0-0").arg("COUNT").arg(BATCH))
        .compose(reply -> {
          List<Response> entries = new ArrayList<>();
          if (reply != null && reply.size() >= 2 && reply.get(1) != null) {
            reply.get(1).forEach(entries::add);
          }
          if (!entries.isEmpty()) {
            LOG.info("took over {} webhook events left by a stopped node", entries.size());
          }
          return relay(entries);
        })
        .onComplete(ar -> {
          claiming = false;
          if (ar.failed()) {
            LOG.debug("claiming stuck webhook events failed: {}", ar.cause().getMessage());
          }
        });
  }

  /** One outbox entry: its stream id and fields (null fields when it was deleted under us). */
  private record Entry(String id, Map<String, String> fields) {}

  private Future<Void> relay(List<Response> raw) {
    if (raw.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Entry> entries = new ArrayList<>(raw.size());
    for (Response r : raw) {
      if (r == null || r.size() < 1) {
        continue;
      }
      Map<String, String> fields = null;
      Response f = r.size() > 1 ? r.get(1) : null;
      if (f != null) {
        fields = new HashMap<>();
        for (int i = 0; i + 1 < f.size(); i += 2) {
          fields.put(f.get(i).toString(), f.get(i + 1) == null ? null : f.get(i + 1).toString());
        }
      }
      entries.add(new Entry(r.get(0).toString(), fields));
    }
    List<Future<WebhookDeliveryRepository.NewDelivery>> built = new ArrayList<>(entries.size());
    for (Entry e : entries) {
      built.add(build(e));
    }
    return Future.all(built).compose(all -> {
      List<WebhookDeliveryRepository.NewDelivery> events = new ArrayList<>();
      for (Future<WebhookDeliveryRepository.NewDelivery> f : built) {
        if (f.result() != null) {
          events.add(f.result());
        }
      }
      return events.isEmpty() ? Future.<Void>succeededFuture() : deliveries.insert(events);
    }).compose(v -> acknowledge(entries)).onSuccess(v -> onStored.run());
  }

  private Future<WebhookDeliveryRepository.NewDelivery> build(Entry e) {
    Map<String, String> f = e.fields();
    UUID runId = f == null ? null : uuid(f.get(WebhookEvents.FIELD_RUN));
    UUID deploymentId = f == null ? null : uuid(f.get(WebhookEvents.FIELD_DEPLOYMENT));
    String type = f == null ? null : f.get(WebhookEvents.FIELD_TYPE);
    String messageId = f == null ? null : f.get(WebhookEvents.FIELD_MESSAGE);
    if (runId == null || deploymentId == null || type == null || messageId == null
        || !WebhookEvents.ALL.contains(type)) {
      LOG.warn("dropping malformed webhook outbox entry {}", e.id());
      return Future.succeededFuture();
    }
    String at = f.get(WebhookEvents.FIELD_AT);
    String status = f.get(WebhookEvents.FIELD_STATUS);
    return runs.apply(runId.toString()).map(run -> new WebhookDeliveryRepository.NewDelivery(messageId, deploymentId,
        runId, type, WebhookPayload.of(type, at, status, runId.toString(), deploymentId.toString(), run).encode()));
  }

  private Future<Void> acknowledge(List<Entry> entries) {
    Request ack = Request.cmd(Command.XACK).arg(outboxKey).arg(GROUP);
    Request del = Request.cmd(Command.XDEL).arg(outboxKey);
    for (Entry e : entries) {
      ack.arg(e.id());
      del.arg(e.id());
    }
    return redis.batch(List.of(ack, del)).mapEmpty();
  }

  private static UUID uuid(String s) {
    try {
      return s == null ? null : UUID.fromString(s);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  Future<Void> stop() {
    stopped = true;
    return client == null ? Future.succeededFuture() : client.close();
  }
}
