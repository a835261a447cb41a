package io.flowgate.control;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.deployments.ApiKey;
import io.flowgate.deployments.ApiKeyRepository;
import io.flowgate.deployments.Ids;
import io.flowgate.config.ConfigLoader;
import io.flowgate.deployments.NewApiKey;
import io.flowgate.deployments.RotatedApiKey;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;

/**
 * {@code /api-keys}: profile-wide keys (shown once), the masked list of all the caller's keys, rotation, deactivate,
 * activate and delete. A key may be given an expiry ({@code expires_at}); a rotation makes a new key and lets the old
 * one live on for an overlap. The plain key and its hash never appear in a read. Event-loop only.
 */
final class ApiKeyHandlers {
  private static final int MAX_KEY_NAME = 200;
  // PostgreSQL's timestamptz ends in the year 294276; nobody means a key to outlive a century.
  private static final Duration MAX_EXPIRY = Duration.ofDays(100L * 366);

  private final ApiKeyRepository keys;
  private final ControlRequests requests;
  private final Duration defaultOverlap;

  ApiKeyHandlers(ApiKeyRepository keys, ControlRequests requests, Duration defaultOverlap) {
    this.keys = keys;
    this.requests = requests;
    this.defaultOverlap = defaultOverlap;
  }

  /** {@code POST /api-keys} {@code {"name"?, "expires_at"?}} → 201 with the new profile-wide key, shown once. */
  void create(RoutingContext rc) {
    ControlRequests.reply(rc, 201, () -> {
      UUID profileId = Caller.of(rc).profileId();
      JsonObject body = requests.body(rc, "the key");
      ControlRequests.onlyFields(body, List.of("name", "expires_at"));
      String name = ControlRequests.optionalString(body, "name", MAX_KEY_NAME);
      return keys.createProfileWide(profileId, name, expiresAt(body)).map(NewApiKey::toJson);
    });
  }

  /**
   * {@code POST /api-keys/{id}/rotate} {@code {"overlap_seconds"?, "expires_at"?}} → 201 with the replacement key
   * (same scope and name, shown once; {@code expires_at} is its expiry) and {@code rotated_key}, the old key masked,
   * whose {@code expires_at} is the end of the overlap (default {@code keys.rotation_overlap_seconds}). 404 for a key
   * that does not exist (or was deleted), 409 for one rotated already.
   */
  void rotate(RoutingContext rc) {
    ControlRequests.reply(rc, 201, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "API key");
      JsonObject body = requests.body(rc, "the rotation");
      ControlRequests.onlyFields(body, List.of("overlap_seconds", "expires_at"));
      Duration overlap = defaultOverlap;
      Object raw = body.getValue("overlap_seconds");
      if (raw != null) {
        long max = ConfigLoader.MAX_ROTATION_OVERLAP_SECONDS;
        if (!(raw instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.doubleValue() < 0
            || n.doubleValue() > max) {
          throw new GatewayException(ErrorCode.INVALID_REQUEST, "\"overlap_seconds\" must be a whole number from 0 "
              + "to " + max + ": how long the old key keeps working (0 = it stops now); leave it out for the default "
              + "of " + defaultOverlap.toSeconds() + ".");
        }
        overlap = Duration.ofSeconds(n.longValue());
      }
      return keys.rotate(Caller.of(rc).profileId(), id, overlap, expiresAt(body)).map(RotatedApiKey::toJson);
    });
  }

  /**
   * The optional {@code expires_at} of a new key: an RFC 3339 time with its offset, in the future (and within a
   * century). 400 naming the field otherwise.
   */
  static Instant expiresAt(JsonObject body) {
    Object raw = body.getValue("expires_at");
    if (raw == null) {
      return null;
    }
    Instant at;
    try {
      if (!(raw instanceof String s)) {
        throw new DateTimeParseException("not a string", String.valueOf(raw), 0);
      }
      at = OffsetDateTime.parse(s.trim()).toInstant();
    } catch (DateTimeParseException e) {
      throw new GatewayException(ErrorCode.INVALID_REQUEST, "\"expires_at\" must be an RFC 3339 time with its "
          + "offset, like \"2030-01-31T12:00:00Z\"; leave it out for a key that does not expire.");
    }
    Instant now = Instant.now();
    if (!at.isAfter(now)) {
      throw new GatewayException(ErrorCode.INVALID_REQUEST, "\"expires_at\" " + at + " is in the past (it is now "
          + now.truncatedTo(ChronoUnit.SECONDS) + "); give a future time, or leave it out for a key that does not "
          + "expire.");
    }
    if (at.isAfter(now.plus(MAX_EXPIRY))) {
      throw new GatewayException(ErrorCode.INVALID_REQUEST, "\"expires_at\" " + at + " is more than 100 years "
          + "away; leave it out for a key that does not expire.");
    }
    return at;
  }

  /** {@code GET /api-keys[?deployment_id=…]} → {@code {"items": [key, ...]}}, masked. */
  void list(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> {
      UUID profileId = Caller.of(rc).profileId();
      String filter = rc.queryParams().get("deployment_id");
      if (filter == null) {
        return keys.list(profileId).map(list -> ControlRequests.items(list, ApiKey::toJson));
      }
      UUID deploymentId = Ids.parse(filter);
      if (deploymentId == null) {
        throw new GatewayException(ErrorCode.INVALID_REQUEST, "The query parameter deployment_id must be a UUID.");
      }
      return keys.listForDeployment(profileId, deploymentId).map(list -> ControlRequests.items(list, ApiKey::toJson));
    });
  }

  /** {@code POST /api-keys/{id}/deactivate} → the key, inactive. */
  void deactivate(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> keys.deactivate(Caller.of(rc).profileId(),
        ControlRequests.pathId(rc, "id", "API key")).map(ApiKey::toJson));
  }

  /** {@code POST /api-keys/{id}/activate} → the key, active. */
  void activate(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> keys.activate(Caller.of(rc).profileId(),
        ControlRequests.pathId(rc, "id", "API key")).map(ApiKey::toJson));
  }

  /** {@code DELETE /api-keys/{id}} → 204. */
  void delete(RoutingContext rc) {
    ControlRequests.replyNoContent(rc, () -> keys.delete(Caller.of(rc).profileId(),
        ControlRequests.pathId(rc, "id", "API key")));
  }
}
