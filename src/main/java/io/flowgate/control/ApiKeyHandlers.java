package io.flowgate.control;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.deployments.ApiKey;
import io.flowgate.deployments.ApiKeyRepository;
import io.flowgate.deployments.Ids;
import io.flowgate.deployments.NewApiKey;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.UUID;

/**
 * {@code /api-keys}: profile-wide keys (shown once), the masked list of all the caller's keys, deactivate, activate
 * and delete. The plain key and its hash never appear in a read. Event-loop only.
 */
final class ApiKeyHandlers {
  private static final int MAX_KEY_NAME = 200;

  private final ApiKeyRepository keys;
  private final ControlRequests requests;

  ApiKeyHandlers(ApiKeyRepository keys, ControlRequests requests) {
    this.keys = keys;
    this.requests = requests;
  }

  /** {@code POST /api-keys} {@code {"name"?}} → 201 with the new profile-wide key, shown once. */
  void create(RoutingContext rc) {
    ControlRequests.reply(rc, 201, () -> {
      UUID profileId = Caller.of(rc).profileId();
      JsonObject body = requests.body(rc, "the key");
      ControlRequests.onlyFields(body, List.of("name"));
      String name = ControlRequests.optionalString(body, "name", MAX_KEY_NAME);
      return keys.createProfileWide(profileId, name).map(NewApiKey::toJson);
    });
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
