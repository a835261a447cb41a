package io.flowgate.webhooks;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Webhook deliveries in PostgreSQL: the queue of due deliveries (taken with {@code FOR UPDATE SKIP LOCKED}, so any
 * node delivers any of them and a node that dies mid-attempt loses its claim) and the delivery log with every
 * attempt. Thread-safe; every method returns a Future.
 */
public final class WebhookDeliveryRepository {
  public static final int DEFAULT_LIMIT = 20;
  public static final int MAX_LIMIT = 100;
  public static final List<String> STATES = List.of("pending", "succeeded", "failed", "skipped");
  private static final OffsetDateTime END_OF_TIME = OffsetDateTime.of(9999, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);
  private static final UUID MAX_ID = new UUID(-1L, -1L);

  private final Pool pool;

  public WebhookDeliveryRepository(Pool pool) {
    this.pool = pool;
  }

  /** An event from the outbox, ready to be stored as a delivery: its message id, run, type and exact payload. */
  record NewDelivery(String messageId, UUID deploymentId, UUID runId, String eventType, String payload) {}

  /** Stores relayed events as deliveries (those whose deployment still subscribes); an event seen before is kept. */
  Future<Void> insert(List<NewDelivery> events) {
    int n = events.size();
    UUID[] ids = new UUID[n];
    String[] messages = new String[n];
    UUID[] deployments = new UUID[n];
    UUID[] runs = new UUID[n];
    String[] types = new String[n];
    String[] payloads = new String[n];
    for (int i = 0; i < n; i++) {
      NewDelivery e = events.get(i);
      ids[i] = UUID.randomUUID();
      messages[i] = e.messageId();
      deployments[i] = e.deploymentId();
      runs[i] = e.runId();
      types[i] = e.eventType();
      payloads[i] = e.payload();
    }
    return pool.preparedQuery(WebhookSql.INSERT_EVENTS).execute(Tuple.tuple().addArrayOfUUID(ids)
        .addArrayOfString(messages).addArrayOfUUID(deployments).addArrayOfUUID(runs).addArrayOfString(types)
        .addArrayOfString(payloads)).mapEmpty();
  }

  /** A delivery this node took, with its endpoint as it is now. */
  record Claimed(UUID id, String messageId, UUID deploymentId, String eventType, String payload, int attempt,
      int scheduleFrom, Instant createdAt, String method, String url, String secret, String previousSecret,
      Instant disabledAt) {

    /** The secrets that sign this attempt: the current one, then the previous while its overlap lasts. */
    List<String> secrets() {
      return previousSecret == null ? List.of(secret) : List.of(secret, previousSecret);
    }
  }

  /** Takes up to {@code limit} due deliveries under {@code claim}, each held for {@code lease}. */
  Future<List<Claimed>> claim(int limit, UUID claim, Duration lease) {
    return pool.preparedQuery(WebhookSql.CLAIM).execute(Tuple.of(limit, claim, lease.toMillis())).map(rows -> {
      List<Claimed> out = new ArrayList<>(rows.size());
      for (Row r : rows) {
        out.add(new Claimed(r.getUUID("id"), r.getString("message_id"), r.getUUID("deployment_id"),
            r.getString("event_type"), r.getString("payload"), r.getInteger("attempts"),
            r.getInteger("schedule_from"), instant(r, "created_at"), r.getString("method"), r.getString("url"),
            r.getString("secret"), r.getString("previous_secret"), instant(r, "disabled_at")));
      }
      return out;
    });
  }

  /** What an attempt came to and what happens next ({@code state} pending after {@code retryIn}, or final). */
  record Outcome(String state, Duration retryIn, Integer statusCode, String error, Instant startedAt,
      double durationMs, String responseExcerpt) {}

  /** Records the attempt and the delivery's new state, if the claim still holds; false when it was lost. */
  Future<Boolean> complete(Claimed delivery, UUID claim, Outcome o) {
    return pool.preparedQuery(WebhookSql.COMPLETE).execute(Tuple.from(Arrays.asList(delivery.id(), claim,
            o.state(), o.retryIn() == null ? null : o.retryIn().toMillis(), o.statusCode(),
            o.error(), o.startedAt().atOffset(ZoneOffset.UTC), o.durationMs(), o.responseExcerpt())))
        .map(rows -> rows.rowCount() == 1);
  }

  /** Ends a delivery without an attempt; {@code why} goes to the log. */
  Future<Void> skip(Claimed delivery, UUID claim, String why) {
    return pool.preparedQuery(WebhookSql.SKIP).execute(Tuple.of(delivery.id(), claim, why)).mapEmpty();
  }

  /** Disables the deployment's endpoint (a receiver answered 410 Gone). */
  Future<Void> disableEndpoint(UUID deploymentId, String reason) {
    return pool.preparedQuery(WebhookSql.DISABLE_ENDPOINT).execute(Tuple.of(deploymentId, reason)).mapEmpty();
  }

  /** A page of the log: deliveries newest first, and the cursor of the next page (null at the end). */
  public record Page(JsonArray items, String nextCursor) {}

  /**
   * The deployment's deliveries with their attempts, newest first; {@code states} empty for all, {@code cursor} the
   * previous page's {@code next_cursor} or null. Fails with 400 {@code invalid_request} for a malformed cursor.
   */
  public Future<Page> list(UUID profileId, UUID deploymentId, List<String> states, int limit, String cursor) {
    OffsetDateTime beforeTime = END_OF_TIME;
    UUID beforeId = MAX_ID;
    if (cursor != null) {
      try {
        String[] parts = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("/", 2);
        beforeTime = OffsetDateTime.parse(parts[0]);
        beforeId = UUID.fromString(parts[1]);
      } catch (RuntimeException e) {
        return Future.failedFuture(new GatewayException(ErrorCode.INVALID_REQUEST, "\"cursor\" is not a cursor this"
            + " list returned; pass \"next_cursor\" of the previous page as it is, or leave it out."));
      }
    }
    return pool.preparedQuery(WebhookSql.LIST).execute(Tuple.tuple().addUUID(deploymentId).addUUID(profileId)
            .addOffsetDateTime(beforeTime).addUUID(beforeId).addArrayOfString(states.toArray(new String[0]))
            .addInteger(limit + 1))
        .compose(rows -> {
          List<Row> page = new ArrayList<>();
          for (Row r : rows) {
            page.add(r);
          }
          boolean more = page.size() > limit;
          List<Row> shown = more ? page.subList(0, limit) : page;
          String next = null;
          if (more) {
            Row last = shown.get(shown.size() - 1);
            next = Base64.getUrlEncoder().withoutPadding().encodeToString((last.getOffsetDateTime("created_at")
                + "/" + last.getUUID("id")).getBytes(StandardCharsets.UTF_8));
          }
          String nextCursor = next;
          return attempts(shown).map(byDelivery -> {
            JsonArray items = new JsonArray();
            for (Row r : shown) {
              items.add(delivery(r).put("attempts", byDelivery.getOrDefault(r.getUUID("id"), new JsonArray())));
            }
            return new Page(items, nextCursor);
          });
        });
  }

  private Future<Map<UUID, JsonArray>> attempts(List<Row> deliveries) {
    if (deliveries.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    UUID[] ids = deliveries.stream().map(r -> r.getUUID("id")).toArray(UUID[]::new);
    return pool.preparedQuery(WebhookSql.ATTEMPTS).execute(Tuple.tuple().addArrayOfUUID(ids)).map(rows -> {
      Map<UUID, JsonArray> out = new LinkedHashMap<>();
      for (Row r : rows) {
        out.computeIfAbsent(r.getUUID("delivery_id"), k -> new JsonArray()).add(new JsonObject()
            .put("attempt", r.getInteger("attempt"))
            .put("started_at", text(instant(r, "started_at")))
            .put("duration_ms", r.getDouble("duration_ms"))
            .put("status_code", r.getInteger("status_code"))
            .put("error", r.getString("error"))
            .put("response_body", r.getString("response_body")));
      }
      return out;
    });
  }

  /** One delivery of the log as the API shows it (without its attempts). */
  static JsonObject delivery(Row r) {
    String state = r.getString("state");
    return new JsonObject()
        .put("id", r.getUUID("id").toString())
        .put("webhook_id", r.getString("message_id"))
        .put("event_type", r.getString("event_type"))
        .put("flow_run_id", r.getUUID("run_id").toString())
        .put("state", state)
        .put("attempt_count", r.getInteger("attempts"))
        .put("next_attempt_at", "pending".equals(state) ? text(instant(r, "next_attempt_at")) : null)
        .put("last_status_code", r.getInteger("last_status"))
        .put("last_error", r.getString("last_error"))
        .put("created_at", text(instant(r, "created_at")))
        .put("updated_at", text(instant(r, "updated_at")))
        .put("finished_at", text(instant(r, "finished_at")));
  }

  /**
   * Sends one of the profile's deliveries again now, whatever its state, with a fresh retry schedule (same
   * {@code webhook-id}: receivers that saw it may drop it). 404 {@code not_found} when the profile has no such
   * delivery; 409 {@code conflict} when its deployment no longer sends webhooks or its endpoint is disabled.
   */
  public Future<JsonObject> redeliver(UUID profileId, UUID deliveryId) {
    return pool.preparedQuery(WebhookSql.FOR_REDELIVERY).execute(Tuple.of(deliveryId, profileId)).compose(rows -> {
      Row r = first(rows);
      if (r == null) {
        return Future.failedFuture(new GatewayException(ErrorCode.NOT_FOUND, "No webhook delivery " + deliveryId
            + " exists in this profile; list them with GET /api/v1/deployments/{id}/webhook-deliveries."));
      }
      UUID deploymentId = r.getUUID("deployment_id");
      if (!"webhook".equals(r.getString("method"))) {
        return Future.failedFuture(new GatewayException(ErrorCode.CONFLICT, "Deployment " + deploymentId
            + " no longer sends webhooks; set its \"notification\" with PATCH /api/v1/deployments/" + deploymentId
            + " first."));
      }
      if (r.getOffsetDateTime("disabled_at") != null) {
        return Future.failedFuture(new GatewayException(ErrorCode.CONFLICT, "The webhook endpoint of deployment "
            + deploymentId + " is disabled (its receiver answered 410 Gone); enable it by setting \"notification\""
            + " again with PATCH /api/v1/deployments/" + deploymentId + ", then redeliver."));
      }
      return pool.preparedQuery(WebhookSql.REDELIVER).execute(Tuple.of(deliveryId, profileId))
          .map(updated -> delivery(first(updated)));
    });
  }

  /** Pending deliveries and the age of the oldest (seconds). */
  Future<double[]> queueStats() {
    return pool.query(WebhookSql.QUEUE_STATS).execute().map(rows -> {
      Row r = first(rows);
      return new double[] {r.getLong("pending"), r.getDouble("oldest")};
    });
  }

  /** Removes ended deliveries older than {@code retention} from the log. */
  Future<Integer> purge(Duration retention) {
    return pool.preparedQuery(WebhookSql.PURGE).execute(Tuple.of((int) retention.toDays()))
        .map(RowSet::rowCount);
  }

  static Row first(RowSet<Row> rows) {
    var it = rows.iterator();
    return it.hasNext() ? it.next() : null;
  }

  static Instant instant(Row row, String column) {
    OffsetDateTime t = row.getOffsetDateTime(column);
    return t == null ? null : t.toInstant();
  }

  static String text(Instant instant) {
    return instant == null ? null : instant.toString();
  }
}
