package io.flowgate.webhooks;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * Deployments' webhook endpoints in PostgreSQL: their signing secrets (rotated with an overlap during which both
 * sign) and whether a 410 disabled them. The URL and events stay in the deployment's {@code notification}.
 * Thread-safe; every method returns a Future.
 */
public final class WebhookEndpointRepository {
  private final Pool pool;

  public WebhookEndpointRepository(Pool pool) {
    this.pool = pool;
  }

  /** A rotation's result: the new secret (shown once) and until when the previous one still signs (or null). */
  public record Rotated(String secret, Instant previousExpiresAt) {
    public JsonObject toJson(UUID deploymentId) {
      return new JsonObject().put("deployment_id", deploymentId.toString()).put("webhook_secret", secret)
          .put("previous_secret_expires_at", previousExpiresAt == null ? null : previousExpiresAt.toString());
    }
  }

  /**
   * Gives one of the profile's deployments a new signing secret; the current one also signs for {@code overlap}. A
   * webhook without a secret yet (declared in a file) gets its first. 404 {@code not_found} when there is no such
   * deployment, 409 {@code conflict} when it sends no webhooks.
   */
  public Future<Rotated> rotate(UUID profileId, UUID deploymentId, Duration overlap) {
    String secret = WebhookSecrets.generate();
    return pool.withTransaction(conn -> conn.preparedQuery(WebhookSql.FOR_ROTATION)
        .execute(Tuple.of(deploymentId, profileId))
        .compose(rows -> {
          Row r = WebhookDeliveryRepository.first(rows);
          if (r == null) {
            return Future.failedFuture(notFound(deploymentId));
          }
          if (!"webhook".equals(r.getString("method"))) {
            return Future.failedFuture(new GatewayException(ErrorCode.CONFLICT, "Deployment " + deploymentId
                + " sends no webhooks; set \"notification\": {\"method\": \"webhook\", \"url\": ...} with PATCH "
                + "/api/v1/deployments/" + deploymentId + " (its answer holds the first webhook_secret)."));
          }
          if (!r.getBoolean("has_secret")) {
            return conn.preparedQuery(WebhookSql.FIRST_SECRET).execute(Tuple.of(deploymentId, profileId, secret))
                .map(x -> new Rotated(secret, null));
          }
          return conn.preparedQuery(WebhookSql.ROTATE)
              .execute(Tuple.of(deploymentId, profileId, secret, overlap.toSeconds()))
              .map(updated -> new Rotated(secret,
                  WebhookDeliveryRepository.instant(WebhookDeliveryRepository.first(updated),
                      "previous_secret_expires_at")));
        }));
  }

  /**
   * The endpoint of one of the profile's deployments as the delivery log shows it: URL, events, enabled or why not,
   * last rotation and the previous secret's expiry. 404 {@code not_found} when there is no such deployment.
   */
  public Future<JsonObject> describe(UUID profileId, UUID deploymentId) {
    return pool.preparedQuery(WebhookSql.ENDPOINT).execute(Tuple.of(deploymentId, profileId)).compose(rows -> {
      Row r = WebhookDeliveryRepository.first(rows);
      if (r == null) {
        return Future.failedFuture(notFound(deploymentId));
      }
      JsonObject notification = r.getJsonObject("notification");
      boolean webhook = WebhookEvents.notifies(notification);
      Instant disabledAt = WebhookDeliveryRepository.instant(r, "disabled_at");
      Instant previousExpires = WebhookDeliveryRepository.instant(r, "previous_secret_expires_at");
      return Future.succeededFuture(new JsonObject()
          .put("method", webhook ? "webhook" : "none")
          .put("url", webhook ? notification.getString("url") : null)
          .put("events", webhook ? notification.getJsonArray("events") : null)
          .put("enabled", webhook && r.getBoolean("has_secret") && disabledAt == null)
          .put("disabled_at", WebhookDeliveryRepository.text(disabledAt))
          .put("disabled_reason", r.getString("disabled_reason"))
          .put("secret_rotated_at", WebhookDeliveryRepository.text(WebhookDeliveryRepository.instant(r,
              "rotated_at")))
          .put("previous_secret_expires_at", previousExpires != null && previousExpires.isAfter(Instant.now())
              ? previousExpires.toString() : null));
    });
  }

  static GatewayException notFound(UUID id) {
    return new GatewayException(ErrorCode.NOT_FOUND,
        "No deployment " + id + " exists in this profile; list your deployments with GET /api/v1/deployments.");
  }
}
