package io.flowgate.control;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.deployments.ApiKey;
import io.flowgate.deployments.ApiKeyRepository;
import io.flowgate.deployments.Deployment;
import io.flowgate.deployments.DeploymentRepository;
import io.flowgate.deployments.DeploymentSettings;
import io.flowgate.deployments.NewApiKey;
import io.flowgate.deployments.ExecutionMode;
import io.flowgate.deployments.NewDeployment;
import io.flowgate.deployments.SavedDeployment;
import io.flowgate.inference.InferenceServerRepository;
import io.flowgate.webhooks.UrlGuard;
import io.flowgate.webhooks.WebhookSecrets;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.UUID;

/**
 * {@code /deployments}: create (with the first API key, shown once), list, read, patch, delete, redeploy (pin the
 * flow's latest version) and add keys to the caller's deployments. Event-loop only.
 */
final class DeploymentHandlers {
  private static final int MAX_KEY_NAME = 200;

  private final DeploymentRepository deployments;
  private final ApiKeyRepository keys;
  private final ControlRequests requests;
  private final InferenceServerRepository inferenceServers;
  private final UrlGuard urlGuard;

  DeploymentHandlers(DeploymentRepository deployments, ApiKeyRepository keys, ControlRequests requests,
      InferenceServerRepository inferenceServers, UrlGuard urlGuard) {
    this.deployments = deployments;
    this.keys = keys;
    this.requests = requests;
    this.inferenceServers = inferenceServers;
    this.urlGuard = urlGuard;
  }

  /**
   * {@code POST /deployments} → 201 with the deployment plus {@code api_key}, {@code api_key_id} and, with a webhook,
   * {@code webhook_secret}.
   */
  void create(RoutingContext rc) {
    ControlRequests.reply(rc, 201, () -> {
      UUID profileId = Caller.of(rc).profileId();
      DeploymentSettings settings = DeploymentSettings.parse(requests.body(rc, "the deployment"), false);
      Future<Void> checked = settings.executionMode() == ExecutionMode.FAST
          ? checkInferenceServer(profileId, settings) : Future.succeededFuture();
      String url = settings.webhookUrl();
      return checked.compose(v -> checkWebhookUrl(url))
          .compose(v -> deployments.create(profileId, settings, url == null ? null : WebhookSecrets.generate()))
          .map(NewDeployment::toJson);
    });
  }

  /** A callback URL must pass the SSRF guard before it is saved (400 invalid_webhook_url). */
  private Future<Void> checkWebhookUrl(String url) {
    return url == null ? Future.succeededFuture() : urlGuard.check(url).mapEmpty();
  }

  /** {@code GET /deployments} → {@code {"items": [deployment, ...]}}. */
  void list(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> deployments.list(Caller.of(rc).profileId())
        .map(list -> ControlRequests.items(list, Deployment::toJson)));
  }

  /** {@code GET /deployments/{id}}. */
  void get(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "deployment");
      return deployments.get(Caller.of(rc).profileId(), id).compose(d -> d == null
          ? Future.failedFuture(notFound(id)) : Future.succeededFuture(d.toJson()));
    });
  }

  /**
   * {@code PATCH /deployments/{id}}: any of the settings; null clears an optional one. Setting a webhook enables its
   * endpoint again (after a 410) and, the first time, answers its {@code webhook_secret}.
   */
  void patch(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "deployment");
      UUID profileId = Caller.of(rc).profileId();
      DeploymentSettings settings = DeploymentSettings.parse(requests.body(rc, "the deployment settings"), true);
      String url = settings.webhookUrl();
      return checkInferenceServer(profileId, settings)
          .compose(v -> checkWebhookUrl(url))
          .compose(v -> deployments.patch(profileId, id, settings, url == null ? null : WebhookSecrets.generate()))
          .map(SavedDeployment::toJson);
    });
  }

  /** {@code DELETE /deployments/{id}} → 204; its keys go with it. */
  void delete(RoutingContext rc) {
    ControlRequests.replyNoContent(rc, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "deployment");
      return deployments.delete(Caller.of(rc).profileId(), id);
    });
  }

  /** {@code POST /deployments/{id}/redeploy} → the deployment pinned to its flow's latest version. */
  void redeploy(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "deployment");
      return deployments.redeploy(Caller.of(rc).profileId(), id).map(Deployment::toJson);
    });
  }

  /**
   * {@code POST /deployments/{id}/api-keys} {@code {"name"?, "expires_at"?}} → 201 with the new key, shown once.
   */
  void createKey(RoutingContext rc) {
    ControlRequests.reply(rc, 201, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "deployment");
      UUID profileId = Caller.of(rc).profileId();
      JsonObject body = requests.body(rc, "the key");
      ControlRequests.onlyFields(body, List.of("name", "expires_at"));
      String name = ControlRequests.optionalString(body, "name", MAX_KEY_NAME);
      return keys.createForDeployment(profileId, id, name, ApiKeyHandlers.expiresAt(body)).map(NewApiKey::toJson);
    });
  }

  /** {@code GET /deployments/{id}/api-keys} → the deployment's keys, masked. */
  void listKeys(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "deployment");
      UUID profileId = Caller.of(rc).profileId();
      return deployments.get(profileId, id).compose(d -> d == null ? Future.failedFuture(notFound(id))
          : keys.listForDeployment(profileId, id).map(list -> ControlRequests.items(list, ApiKey::toJson)));
    });
  }

  /** A named inference server must exist in the caller's profile (400 naming the field otherwise). */
  private Future<Void> checkInferenceServer(UUID profileId, DeploymentSettings settings) {
    UUID serverId = settings.inferenceServerId();
    if (serverId == null) {
      return Future.succeededFuture();
    }
    return inferenceServers.get(profileId, serverId).compose(server -> server != null ? Future.succeededFuture()
        : Future.failedFuture(new GatewayException(ErrorCode.INVALID_REQUEST, "\"inference_server_id\": no "
            + "inference server " + serverId + " exists in this profile; create one with POST "
            + "/api/v1/inference-servers.")));
  }

  static GatewayException notFound(UUID id) {
    return new GatewayException(ErrorCode.NOT_FOUND,
        "No deployment " + id + " exists in this profile; list your deployments with GET /api/v1/deployments.");
  }
}
