package io.flowgate.control;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.inference.InferenceServerRepository;
import io.flowgate.inference.InferenceServerSpec;
import io.flowgate.inference.InferenceServers;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * {@code /inference-servers}: create, list, read, patch, delete, start and stop. Every change is stored in PostgreSQL
 * and applied on this node before the answer; the other nodes apply it when its change notice reaches them (within
 * milliseconds). Every read carries the wanted {@code desired_state}, and the live {@code state} and per-replica
 * states as this node's runtime sees them. Event-loop only.
 */
final class InferenceServerHandlers {
  private final InferenceServerRepository repository;
  private final InferenceServers servers;
  private final ControlRequests requests;

  /** {@code servers} may be null (a control plane without a runtime): reads then say {@code stopped}. */
  InferenceServerHandlers(InferenceServerRepository repository, InferenceServers servers, ControlRequests requests) {
    this.repository = repository;
    this.servers = servers;
    this.requests = requests;
  }

  /** {@code POST /inference-servers} → 201 with the server and its first checked state. */
  void create(RoutingContext rc) {
    ControlRequests.reply(rc, 201, () -> {
      UUID profileId = Caller.of(rc).profileId();
      InferenceServerSpec spec = InferenceServerSpec.parse(UUID.randomUUID(), profileId,
          requests.body(rc, "the inference server"));
      return repository.create(spec).compose(this::describeChecked);
    });
  }

  /** {@code GET /inference-servers} → {@code {"items": [...]}}. */
  void list(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> repository.list(Caller.of(rc).profileId()).map(list -> {
      JsonArray items = new JsonArray();
      for (InferenceServerSpec spec : list) {
        items.add(describe(spec));
      }
      return new JsonObject().put("items", items);
    }));
  }

  /** {@code GET /inference-servers/{id}}. */
  void get(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> find(rc).map(this::describe));
  }

  /**
   * {@code PATCH /inference-servers/{id}}: a JSON merge patch of the settings, checked as a creation body is (400
   * naming each bad field) → 200 with the server as it runs now.
   */
  void patch(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "inference server");
      JsonObject body = requests.body(rc, "the inference server settings");
      return repository.update(Caller.of(rc).profileId(), id, current -> current.patch(body))
          .compose(spec -> servers == null ? Future.succeededFuture(spec) : servers.apply(spec).map(spec))
          .map(this::describe);
    });
  }

  /**
   * {@code DELETE /inference-servers/{id}} → 204; 409 while a deployment forwards to it or a runnable flow version
   * calls it.
   */
  void delete(RoutingContext rc) {
    ControlRequests.replyNoContent(rc, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "inference server");
      return repository.delete(Caller.of(rc).profileId(), id)
          .compose(v -> servers == null ? Future.succeededFuture() : servers.forget(id));
    });
  }

  /**
   * {@code POST /inference-servers/{id}/start} → the server, started on every node (a launched one launches its
   * replicas here now, and on the other nodes that run it).
   */
  void start(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> setStopped(rc, false).compose(spec -> servers == null
        ? Future.succeededFuture(spec) : servers.start(spec).map(spec)).map(this::describe));
  }

  /** {@code POST /inference-servers/{id}/stop} → the server, stopped on every node until started again. */
  void stop(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> setStopped(rc, true).compose(spec -> servers == null
        ? Future.succeededFuture(spec) : servers.stop(spec).map(spec)).map(this::describe));
  }

  private Future<InferenceServerSpec> setStopped(RoutingContext rc, boolean stopped) {
    UUID id = ControlRequests.pathId(rc, "id", "inference server");
    return repository.setStopped(Caller.of(rc).profileId(), id, stopped);
  }

  private Future<InferenceServerSpec> find(RoutingContext rc) {
    UUID id = ControlRequests.pathId(rc, "id", "inference server");
    return repository.get(Caller.of(rc).profileId(), id).compose(spec -> spec == null
        ? Future.failedFuture(notFound(id)) : Future.succeededFuture(spec));
  }

  private Future<JsonObject> describeChecked(InferenceServerSpec spec) {
    return servers == null ? Future.succeededFuture(describe(spec)) : servers.describeChecked(spec);
  }

  private JsonObject describe(InferenceServerSpec spec) {
    if (servers != null) {
      return servers.describe(spec);
    }
    JsonObject json = spec.toJson().put("state", "stopped");
    List<Object> replicas = new ArrayList<>();
    int count = spec.launched() ? spec.launch().replicas() : spec.replicas().size();
    for (int i = 0; i < count; i++) {
      replicas.add(new JsonObject().put("url", spec.launched() ? null : spec.replicas().get(i)).put("state",
          "stopped"));
    }
    return json.put("replicas", new JsonArray(replicas));
  }

  static GatewayException notFound(UUID id) {
    return new GatewayException(ErrorCode.NOT_FOUND, "No inference server " + id
        + " exists in this profile; list them with GET /api/v1/inference-servers.");
  }
}
