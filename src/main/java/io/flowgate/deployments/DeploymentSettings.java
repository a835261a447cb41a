package io.flowgate.deployments;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.webhooks.WebhookEvents;
import io.flowgate.webhooks.WebhookUrl;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * The settings of a deployment as a client sends them (DESIGN §2: {@code flow_id}, {@code name},
 * {@code execution_mode}, {@code deployment_type}, {@code timeout_seconds}, {@code notification},
 * {@code inference_server_id}, {@code rate_limit}, {@code max_body_bytes}, and {@code flow_version} to pin a
 * version), parsed and checked field by field. Only the fields present are applied: the same type serves creation
 * (over defaults), PATCH (over the stored deployment) and declarations. Immutable; any thread.
 */
public final class DeploymentSettings {
  static final int MAX_TIMEOUT_SECONDS = 7 * 86_400;
  static final int MAX_BODY_BYTES = 64 * 1024 * 1024;
  static final int MAX_NAME_LENGTH = 200;
  static final List<String> EVENTS = WebhookEvents.ALL;
  private static final String URL_FIELD = "notification.url";
  private static final Set<String> FIELDS = new LinkedHashSet<>(List.of("flow_id", "flow_version", "name",
      "execution_mode", "deployment_type", "timeout_seconds", "notification", "inference_server_id", "rate_limit",
      "max_body_bytes"));
  /** Members of a read that a client may send back unchanged; ignored. */
  private static final Set<String> READ_ONLY = Set.of("id", "profile_id", "trigger_url", "created_at",
      "updated_at", "api_key", "api_key_id", "api_key_masked");

  private final Map<String, Object> values;

  private DeploymentSettings(Map<String, Object> values) {
    this.values = values;
  }

  /**
   * Parses {@code body}. With {@code patch} false (creation) a null member means "use the default"; with
   * {@code patch} true it clears an optional setting. Throws {@code invalid_request} naming every bad field (in
   * {@code details}).
   */
  public static DeploymentSettings parse(JsonObject body, boolean patch) {
    Map<String, Object> values = new HashMap<>();
    List<JsonObject> problems = new ArrayList<>();
    for (String field : body.fieldNames()) {
      if (!FIELDS.contains(field) && !READ_ONLY.contains(field)) {
        problems.add(problem(field, "\"" + field + "\" is not a deployment setting; use "
            + String.join(", ", FIELDS) + "."));
      }
    }
    for (String field : FIELDS) {
      if (!body.containsKey(field)) {
        continue;
      }
      Object raw = body.getValue(field);
      if (raw == null) {
        if (!patch) {
          continue;
        }
        if (field.equals("name") || field.equals("execution_mode") || field.equals("deployment_type")) {
          problems.add(problem(field, "\"" + field + "\" cannot be null; leave it out to keep the current value."));
        } else {
          values.put(field, null);
        }
        continue;
      }
      try {
        values.put(field, parseField(field, raw));
      } catch (BadField e) {
        problems.add(problem(e.field, e.getMessage()));
      } catch (IllegalArgumentException e) {
        problems.add(problem(field, e.getMessage()));
      }
    }
    if (!problems.isEmpty()) {
      String first = problems.get(0).getString("message");
      String message = problems.size() == 1 ? first
          : first + " (" + (problems.size() - 1) + " more problem" + (problems.size() > 2 ? "s" : "")
              + " listed in details)";
      // A callback URL that is the only problem has its own code (the same as the SSRF guard's refusals).
      boolean onlyUrl = problems.stream().allMatch(p -> URL_FIELD.equals(p.getString("field")));
      throw GatewayException.withDetails(onlyUrl ? ErrorCode.INVALID_WEBHOOK_URL : ErrorCode.INVALID_REQUEST, message,
          new JsonArray(new ArrayList<>(problems)));
    }
    return new DeploymentSettings(values);
  }

  private static JsonObject problem(String field, String message) {
    return new JsonObject().put("field", field).put("message", message);
  }

  private static Object parseField(String field, Object raw) {
    switch (field) {
      case "flow_id":
      case "inference_server_id": {
        UUID id = raw instanceof String s ? Ids.parse(s) : null;
        if (id == null) {
          throw new IllegalArgumentException("\"" + field + "\" must be a UUID such as "
              + "\"7d2f6c1e-3b8a-4c5e-9f10-2a4b6c8d0e1f\".");
        }
        return id;
      }
      case "flow_version":
        return integer(field, raw, 1, Integer.MAX_VALUE);
      case "name": {
        if (!(raw instanceof String s) || s.isBlank()) {
          throw new IllegalArgumentException("\"name\" must be a non-empty string.");
        }
        if (s.length() > MAX_NAME_LENGTH) {
          throw new IllegalArgumentException("\"name\" is longer than " + MAX_NAME_LENGTH + " characters.");
        }
        return s.trim();
      }
      case "execution_mode": {
        ExecutionMode mode = raw instanceof String s ? ExecutionMode.fromWire(s) : null;
        if (mode == null) {
          throw new IllegalArgumentException("\"execution_mode\" must be one of sync, async, fast; got "
              + describe(raw) + ".");
        }
        return mode;
      }
      case "deployment_type": {
        DeploymentType type = raw instanceof String s ? DeploymentType.fromWire(s) : null;
        if (type == null) {
          throw new IllegalArgumentException("\"deployment_type\" must be one of api, server; got "
              + describe(raw) + ".");
        }
        return type;
      }
      case "timeout_seconds":
        return integer(field, raw, 1, MAX_TIMEOUT_SECONDS);
      case "max_body_bytes":
        return integer(field, raw, 1, MAX_BODY_BYTES);
      case "rate_limit":
        return rateLimit(raw);
      case "notification":
        return notification(raw);
      default:
        throw new IllegalStateException("unhandled field " + field);
    }
  }

  private static int integer(String field, Object raw, int min, int max) {
    if (raw instanceof Number n) {
      double d = n.doubleValue();
      if (d == Math.rint(d) && d >= min && d <= max) {
        return (int) d;
      }
    }
    throw new BadField(field, "\"" + field + "\" must be a whole number from " + min + " to " + max
        + "; got " + describe(raw) + ".");
  }

  private static JsonObject rateLimit(Object raw) {
    if (!(raw instanceof JsonObject o)) {
      throw new IllegalArgumentException("\"rate_limit\" must be an object like "
          + "{\"requests_per_second\": 50, \"burst\": 100}.");
    }
    for (String key : o.fieldNames()) {
      if (!key.equals("requests_per_second") && !key.equals("burst")) {
        throw new BadField("rate_limit." + key, "\"rate_limit." + key + "\" is not a setting; use "
            + "requests_per_second and burst.");
      }
    }
    Object rps = o.getValue("requests_per_second");
    if (!(rps instanceof Number n) || !(n.doubleValue() > 0) || n.doubleValue() > 1_000_000) {
      throw new BadField("rate_limit.requests_per_second", "\"rate_limit.requests_per_second\" must be a number "
          + "above 0 and at most 1000000 (requests each API key may make per second); got " + describe(rps)
          + ". To lift the limit, set \"rate_limit\" to null.");
    }
    int burst;
    if (o.getValue("burst") == null) {
      burst = (int) Math.max(1, Math.ceil(n.doubleValue()));
    } else {
      burst = integer("rate_limit.burst", o.getValue("burst"), 1, 10_000_000);
    }
    return new JsonObject().put("requests_per_second", n).put("burst", burst);
  }

  private static JsonObject notification(Object raw) {
    if (!(raw instanceof JsonObject o)) {
      throw new IllegalArgumentException("\"notification\" must be an object like {\"method\": \"webhook\", "
          + "\"url\": \"https://example.com/hook\", \"events\": [\"run.completed\"]}.");
    }
    Object method = o.getValue("method", "webhook");
    if ("none".equals(method)) {
      return null;
    }
    if (!"webhook".equals(method)) {
      throw new IllegalArgumentException("\"notification.method\" must be webhook or none; got " + describe(method)
          + ".");
    }
    for (String key : o.fieldNames()) {
      if (!key.equals("method") && !key.equals("url") && !key.equals("events")) {
        throw new IllegalArgumentException("\"notification." + key + "\" is not a setting; use method, url and "
            + "events.");
      }
    }
    Object url = o.getValue("url");
    if (!(url instanceof String u)) {
      throw new BadUrl("\"notification.url\" must be an absolute http:// or https:// URL.");
    }
    try {
      WebhookUrl.parse(u);
    } catch (IllegalArgumentException e) {
      throw new BadUrl("\"notification.url\" " + e.getMessage());
    }
    JsonArray events;
    Object rawEvents = o.getValue("events");
    if (rawEvents == null) {
      events = new JsonArray(new ArrayList<>(EVENTS));
    } else if (rawEvents instanceof JsonArray list && !list.isEmpty()) {
      events = new JsonArray();
      for (Object e : list) {
        if (!(e instanceof String s) || !EVENTS.contains(s)) {
          throw new IllegalArgumentException("\"notification.events\" may hold only " + String.join(", ", EVENTS)
              + "; got " + describe(e) + ".");
        }
        if (!events.contains(s)) {
          events.add(s);
        }
      }
    } else {
      throw new IllegalArgumentException("\"notification.events\" must be a non-empty array of "
          + String.join(", ", EVENTS) + ".");
    }
    return new JsonObject().put("method", "webhook").put("url", url).put("events", events);
  }

  /** A problem with a member nested in (or named differently from) the top-level field being parsed. */
  private static class BadField extends IllegalArgumentException {
    final String field;

    BadField(String field, String message) {
      super(message);
      this.field = field;
    }
  }

  /** A callback URL that is malformed (reported under {@code notification.url}). */
  private static final class BadUrl extends BadField {
    BadUrl(String message) {
      super(URL_FIELD, message);
    }
  }

  private static String describe(Object raw) {
    if (raw instanceof String s) {
      return "\"" + (s.length() > 60 ? s.substring(0, 60) + "…" : s) + "\"";
    }
    String text = String.valueOf(raw);
    return text.length() > 60 ? text.substring(0, 60) + "…" : text;
  }

  /** Whether the client sent {@code field} (possibly as null). */
  public boolean has(String field) {
    return values.containsKey(field);
  }

  /** The flow the client named, or null. */
  public UUID flowId() {
    return (UUID) values.get("flow_id");
  }

  /** The inference server the client named, or null. */
  public UUID inferenceServerId() {
    return (UUID) values.get("inference_server_id");
  }

  /** The execution mode the client asked for, or null (keep the default or the current one). */
  public ExecutionMode executionMode() {
    return (ExecutionMode) values.get("execution_mode");
  }

  /**
   * The webhook URL the client set (to be checked against private networks before it is saved), or null when the
   * client set none or turned webhooks off.
   */
  public String webhookUrl() {
    JsonObject notification = (JsonObject) values.get("notification");
    return WebhookEvents.notifies(notification) ? notification.getString("url") : null;
  }

  /** The flow version the client asked to pin, or null (pin the latest). */
  public Integer flowVersion() {
    return (Integer) values.get("flow_version");
  }

  /**
   * {@code base} with these settings applied. When the flow changes without a {@code flow_version}, the version is
   * left null for the repository to pin the latest.
   */
  public Deployment applyTo(Deployment base) {
    UUID flowId = has("flow_id") ? flowId() : base.flowId();
    Integer flowVersion;
    if (has("flow_version")) {
      flowVersion = flowVersion();
    } else if (has("flow_id") && !Objects.equals(flowId, base.flowId())) {
      flowVersion = null;
    } else {
      flowVersion = base.flowVersion();
    }
    return new Deployment(base.id(), base.profileId(), flowId, flowVersion,
        has("name") ? (String) values.get("name") : base.name(),
        has("execution_mode") ? (ExecutionMode) values.get("execution_mode") : base.executionMode(),
        has("deployment_type") ? (DeploymentType) values.get("deployment_type") : base.deploymentType(),
        has("timeout_seconds") ? (Integer) values.get("timeout_seconds") : base.timeoutSeconds(),
        has("max_body_bytes") ? (Integer) values.get("max_body_bytes") : base.maxBodyBytes(),
        has("rate_limit") ? (JsonObject) values.get("rate_limit") : base.rateLimit(),
        has("notification") ? (JsonObject) values.get("notification") : base.notification(),
        has("inference_server_id") ? (UUID) values.get("inference_server_id") : base.inferenceServerId(),
        base.createdAt(), base.updatedAt());
  }

  /** Checks the rules that span fields of the resulting deployment; throws {@code invalid_request}. */
  static void checkCombination(Deployment d) {
    if (d.executionMode() == ExecutionMode.FAST) {
      if (d.inferenceServerId() == null) {
        throw new GatewayException(ErrorCode.INVALID_REQUEST, "A fast deployment forwards to an inference server: "
            + "set \"inference_server_id\".");
      }
    } else if (d.flowId() == null) {
      throw new GatewayException(ErrorCode.INVALID_REQUEST, "A " + d.executionMode().wire()
          + " deployment runs a flow: set \"flow_id\" (only fast deployments may go without one).");
    }
    if (d.flowVersion() != null && d.flowId() == null) {
      throw new GatewayException(ErrorCode.INVALID_REQUEST, "\"flow_version\" needs a \"flow_id\".");
    }
  }
}
