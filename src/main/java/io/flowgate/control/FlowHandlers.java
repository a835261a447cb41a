package io.flowgate.control;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.deployments.FlowRepository;
import io.flowgate.deployments.FlowValidation;
import io.flowgate.deployments.StoredFlow;
import io.flowgate.flow.NodeTypes;
import io.flowgate.inference.InferenceNodeType;
import io.flowgate.inference.InferenceServerRepository;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.HashSet;
import java.util.Map;
import java.util.UUID;

/**
 * {@code /flows}: create, list, read, replace (a new version) and delete the caller's flows. Definitions are
 * validated by the flow engine on a worker thread (compiling expressions is CPU work), then every {@code inference}
 * node must call an inference server of the caller's profile. Event-loop only.
 */
final class FlowHandlers {
  private final Vertx vertx;
  private final NodeTypes nodeTypes;
  private final FlowRepository flows;
  private final InferenceServerRepository inferenceServers;
  private final ControlRequests requests;

  FlowHandlers(Vertx vertx, NodeTypes nodeTypes, FlowRepository flows, InferenceServerRepository inferenceServers,
      ControlRequests requests) {
    this.vertx = vertx;
    this.nodeTypes = nodeTypes;
    this.flows = flows;
    this.inferenceServers = inferenceServers;
    this.requests = requests;
  }

  /** {@code POST /flows} → 201 with the flow at version 1. */
  void create(RoutingContext rc) {
    ControlRequests.reply(rc, 201, () -> {
      UUID profileId = Caller.of(rc).profileId();
      JsonObject body = requests.body(rc, "the flow");
      return validate(profileId, body).compose(definition -> flows.create(profileId, definition))
          .map(StoredFlow::toJson);
    });
  }

  /** {@code GET /flows} → {@code {"items": [flow, ...]}}. */
  void list(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> flows.list(Caller.of(rc).profileId())
        .map(list -> ControlRequests.items(list, StoredFlow::toJson)));
  }

  /** {@code GET /flows/{id}} → the flow at its latest version. */
  void get(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "flow");
      return flows.get(Caller.of(rc).profileId(), id).compose(flow -> flow == null
          ? Future.failedFuture(notFound(id)) : Future.succeededFuture(flow.toJson()));
    });
  }

  /** {@code PUT /flows/{id}} → 200 with the new version. */
  void replace(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "flow");
      UUID profileId = Caller.of(rc).profileId();
      JsonObject body = requests.body(rc, "the flow");
      return validate(profileId, body).compose(definition -> flows.update(profileId, id, definition))
          .map(StoredFlow::toJson);
    });
  }

  /** {@code DELETE /flows/{id}} → 204, or 409 while deployments use it. */
  void delete(RoutingContext rc) {
    ControlRequests.replyNoContent(rc, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "flow");
      return flows.delete(Caller.of(rc).profileId(), id);
    });
  }

  private Future<JsonObject> validate(UUID profileId, JsonObject body) {
    return vertx.executeBlocking(() -> FlowValidation.definition(body, nodeTypes), false)
        .compose(definition -> checkInferenceServers(profileId, definition).map(definition));
  }

  /**
   * Every {@code inference} node must call a server of the caller's profile: 400 invalid_flow naming each node that
   * does not. Another profile's server reads as missing, as everywhere in the control plane.
   */
  private Future<Void> checkInferenceServers(UUID profileId, JsonObject definition) {
    Map<String, UUID> calls = InferenceNodeType.serverIds(definition);
    if (calls.isEmpty()) {
      return Future.succeededFuture();
    }
    return inferenceServers.owners(new HashSet<>(calls.values())).compose(owners -> {
      JsonArray details = new JsonArray();
      String first = null;
      for (Map.Entry<String, UUID> call : calls.entrySet()) {
        if (!profileId.equals(owners.get(call.getValue()))) {
          String message = "node '" + call.getKey() + "': no inference server " + call.getValue() + " exists in "
              + "this profile; create one with POST /api/v1/inference-servers or use one listed by GET "
              + "/api/v1/inference-servers.";
          details.add(new JsonObject().put("node_id", call.getKey()).put("message", message));
          first = first == null ? message : first;
        }
      }
      return details.isEmpty() ? Future.succeededFuture()
          : Future.failedFuture(GatewayException.withDetails(ErrorCode.INVALID_FLOW, first, details));
    });
  }

  private static GatewayException notFound(UUID id) {
    return new GatewayException(ErrorCode.NOT_FOUND,
        "No flow " + id + " exists in this profile; list your flows with GET /api/v1/flows.");
  }
}
