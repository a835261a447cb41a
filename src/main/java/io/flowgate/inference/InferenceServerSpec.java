package io.flowgate.inference;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * An inference server as stored in PostgreSQL and sent to the control plane: either fixed {@code replicas} (base
 * URLs) or a {@code launch} command that flowgate starts itself, plus the state every node should keep it in (started
 * or stopped). {@link #parse} checks a creation body field by field, {@link #patch} a PATCH body the same way.
 * Immutable; any thread.
 *
 * @param predictPath passthrough only: where predictions are POSTed (default {@code /predict})
 * @param readyPath where readiness is checked; null means the protocol's default
 * @param replicas base URLs, or null when the server is launched
 * @param launch the launch settings, or null when the server has fixed replicas
 * @param stopped whether {@code POST …/stop} was the last of stop and start: every node then refuses to forward
 * @param revision bumped by every change of the stored row, so that a node never applies an older read over a newer one
 */
public record InferenceServerSpec(UUID id, UUID profileId, String name, Protocol protocol, String model,
    String predictPath, String readyPath, List<String> replicas, Launch launch, int timeoutMs, int maxInFlight,
    boolean stopped, long revision, Instant createdAt) {

  static final int MAX_REPLICAS = 16;
  static final int DEFAULT_TIMEOUT_MS = 30_000;
  static final int DEFAULT_MAX_IN_FLIGHT = 256;
  static final String DEFAULT_PREDICT_PATH = "/predict";
  private static final List<String> FIELDS = List.of("name", "protocol", "model", "predict_path", "ready_path",
      "replicas", "launch", "timeout_ms", "max_in_flight");
  private static final Set<String> READ_ONLY = Set.of("id", "profile_id", "created_at", "state");
  /** Members of a read that a PATCH cannot change (start and stop change the state). */
  private static final Set<String> NOT_PATCHABLE = Set.of("id", "profile_id", "created_at", "updated_at", "state",
      "desired_state", "in_flight", "held");

  /**
   * How flowgate starts a launched server: {@code command} (argv, no shell) run once per replica with the replica's
   * port in the environment variable {@code PORT}; stopped after {@code idleStopSeconds} without traffic (0 = never).
   */
  public record Launch(List<String> command, int replicas, int idleStopSeconds) {
    JsonObject toJson() {
      return new JsonObject().put("command", new JsonArray(new ArrayList<>(command))).put("replicas", replicas)
          .put("idle_stop_seconds", idleStopSeconds);
    }

    static Launch fromJson(JsonObject json) {
      List<String> command = new ArrayList<>();
      for (Object o : json.getJsonArray("command", new JsonArray())) {
        command.add(String.valueOf(o));
      }
      return new Launch(List.copyOf(command), json.getInteger("replicas", 1), json.getInteger("idle_stop_seconds",
          600));
    }
  }

  public InferenceServerSpec {
    replicas = replicas == null ? null : List.copyOf(replicas);
  }

  /** Whether flowgate starts this server's replicas itself. */
  public boolean launched() {
    return launch != null;
  }

  /** The readiness path actually checked. */
  public String effectiveReadyPath() {
    return readyPath != null ? readyPath : protocol.defaultReadyPath();
  }

  /** The state every node should keep the server in: {@code started} or {@code stopped}. */
  public String desiredState() {
    return stopped ? "stopped" : "started";
  }

  /** This server with the wanted state {@code stopped} (the revision is the store's to bump). */
  public InferenceServerSpec withStopped(boolean stopped) {
    return new InferenceServerSpec(id, profileId, name, protocol, model, predictPath, readyPath, replicas, launch,
        timeoutMs, maxInFlight, stopped, revision, createdAt);
  }

  /** Whether {@code other} has the same settings (everything a PATCH may change), whatever its state and revision. */
  public boolean sameSettings(InferenceServerSpec other) {
    return settingsJson().equals(other.settingsJson());
  }

  /** The wire form, without the live state (the control plane adds it). */
  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("id", id.toString())
        .put("name", name)
        .put("protocol", protocol.wire())
        .put("model", model)
        .put("predict_path", protocol == Protocol.PASSTHROUGH ? predictPath : null)
        .put("ready_path", effectiveReadyPath())
        .put("timeout_ms", timeoutMs)
        .put("max_in_flight", maxInFlight)
        .put("desired_state", desiredState());
    if (launch != null) {
      json.put("launch", launch.toJson());
    } else {
      json.put("replicas", new JsonArray(new ArrayList<>(replicas)));
    }
    json.put("created_at", createdAt == null ? null : createdAt.toString());
    return json;
  }

  /**
   * Parses a creation body. Throws 400 {@code invalid_request} naming the first bad field in the message and every
   * bad field in {@code details}.
   */
  public static InferenceServerSpec parse(UUID id, UUID profileId, JsonObject body) {
    List<JsonObject> problems = new ArrayList<>();
    for (String field : body.fieldNames()) {
      if (!FIELDS.contains(field) && !READ_ONLY.contains(field)) {
        problems.add(problem(field, "\"" + field + "\" is not an inference server setting; use "
            + String.join(", ", FIELDS) + "."));
      }
    }
    String name = null;
    Object rawName = body.getValue("name");
    if (!(rawName instanceof String s) || s.isBlank() || s.length() > 200) {
      problems.add(problem("name", "\"name\" must be a non-empty string of at most 200 characters."));
    } else {
      name = s.trim();
    }
    Object rawProtocol = body.getValue("protocol");
    Protocol protocol = rawProtocol instanceof String s ? Protocol.fromWire(s) : null;
    if (protocol == null) {
      problems.add(problem("protocol", "\"protocol\" must be passthrough or open_inference_v2; got "
          + describe(rawProtocol) + "."));
    }
    String model = null;
    Object rawModel = body.getValue("model");
    if (rawModel != null) {
      if (!(rawModel instanceof String s) || !s.matches("[A-Za-z0-9._-]{1,200}")) {
        problems.add(problem("model", "\"model\" must be 1 to 200 letters, digits, '.', '_' or '-'; got "
            + describe(rawModel) + "."));
      } else {
        model = s;
      }
    } else if (protocol == Protocol.OPEN_INFERENCE_V2) {
      problems.add(problem("model", "\"model\" is required for open_inference_v2: flowgate calls "
          + "/v2/models/{model}/infer."));
    }
    String predictPath = path(body, "predict_path", problems);
    if (predictPath == null) {
      predictPath = DEFAULT_PREDICT_PATH;
    }
    String readyPath = path(body, "ready_path", problems);
    List<String> replicas = null;
    Launch launch = null;
    Object rawReplicas = body.getValue("replicas");
    Object rawLaunch = body.getValue("launch");
    if (rawReplicas != null && rawLaunch != null) {
      problems.add(problem("replicas", "Send either \"replicas\" (URLs of running servers) or \"launch\" (a "
          + "command flowgate starts), not both."));
    } else if (rawReplicas == null && rawLaunch == null) {
      problems.add(problem("replicas", "Send \"replicas\": [\"http://127.0.0.1:9001\"] (running servers) or "
          + "\"launch\": {\"command\": [...]} (flowgate starts them)."));
    } else if (rawReplicas != null) {
      replicas = replicas(rawReplicas, problems);
    } else {
      launch = launch(rawLaunch, problems);
    }
    int timeoutMs = integer(body, "timeout_ms", 1, 600_000, DEFAULT_TIMEOUT_MS, problems);
    int maxInFlight = integer(body, "max_in_flight", 1, 100_000, DEFAULT_MAX_IN_FLIGHT, problems);
    fail(problems);
    return new InferenceServerSpec(id, profileId, name, protocol, model, predictPath, readyPath, replicas, launch,
        timeoutMs, maxInFlight, false, 0, null);
  }

  /**
   * The settings as stored, in the creation body's form: what a PATCH is merged onto. Defaults that depend on the
   * protocol (the readiness path) stay absent, so that a PATCH of the protocol moves them too.
   */
  JsonObject settingsJson() {
    JsonObject json = new JsonObject().put("name", name).put("protocol", protocol.wire());
    if (model != null) {
      json.put("model", model);
    }
    if (predictPath != null) {
      json.put("predict_path", predictPath);
    }
    if (readyPath != null) {
      json.put("ready_path", readyPath);
    }
    if (launch != null) {
      json.put("launch", launch.toJson());
    } else {
      json.put("replicas", new JsonArray(new ArrayList<>(replicas)));
    }
    return json.put("timeout_ms", timeoutMs).put("max_in_flight", maxInFlight);
  }

  /**
   * This server changed by a PATCH body, a JSON merge patch (RFC 7396) of the creation body: a member replaces the
   * setting, {@code null} resets it to its default, and {@code launch} is merged member by member. Sending
   * {@code replicas} to a launched server (or {@code launch} to one with replicas) switches it over. The result is
   * checked exactly as a creation body is: 400 {@code invalid_request} naming every bad field; the state and
   * revision are kept.
   */
  public InferenceServerSpec patch(JsonObject body) {
    List<JsonObject> problems = new ArrayList<>();
    if (body.isEmpty()) {
      problems.add(problem("body", "Send at least one setting to change: " + String.join(", ", FIELDS) + "."));
    }
    for (String field : body.fieldNames()) {
      if (field.equals("state") || field.equals("desired_state")) {
        problems.add(problem(field, "\"" + field + "\" cannot be patched; stop or start the server with POST "
            + "/api/v1/inference-servers/" + id + "/stop or /start."));
      } else if (NOT_PATCHABLE.contains(field)) {
        problems.add(problem(field, "\"" + field + "\" is read-only; send only settings to change: "
            + String.join(", ", FIELDS) + "."));
      }
    }
    fail(problems);
    JsonObject merged = settingsJson();
    // Naming one way of running the server replaces the other, unless the body says something about both.
    if (body.getValue("replicas") != null && !body.containsKey("launch")) {
      merged.remove("launch");
    }
    if (body.getValue("launch") != null && !body.containsKey("replicas")) {
      merged.remove("replicas");
    }
    for (String field : body.fieldNames()) {
      Object value = body.getValue(field);
      if (value == null) {
        merged.remove(field);
      } else if (field.equals("launch") && value instanceof JsonObject changes
          && merged.getValue("launch") instanceof JsonObject current) {
        JsonObject launchMerged = current.copy();
        for (String key : changes.fieldNames()) {
          Object v = changes.getValue(key);
          if (v == null) {
            launchMerged.remove(key);
          } else {
            launchMerged.put(key, v);
          }
        }
        merged.put("launch", launchMerged);
      } else {
        merged.put(field, value);
      }
    }
    InferenceServerSpec changed = parse(id, profileId, merged);
    return new InferenceServerSpec(id, profileId, changed.name, changed.protocol, changed.model, changed.predictPath,
        changed.readyPath, changed.replicas, changed.launch, changed.timeoutMs, changed.maxInFlight, stopped,
        revision, createdAt);
  }

  /** Throws 400 {@code invalid_request}: the first problem's message (with a count of the rest), all in details. */
  private static void fail(List<JsonObject> problems) {
    if (problems.isEmpty()) {
      return;
    }
    String first = problems.get(0).getString("message");
    String message = problems.size() == 1 ? first : first + " (" + (problems.size() - 1) + " more listed in details)";
    throw GatewayException.withDetails(ErrorCode.INVALID_REQUEST, message, new JsonArray(new ArrayList<>(problems)));
  }

  private static List<String> replicas(Object raw, List<JsonObject> problems) {
    if (!(raw instanceof JsonArray list) || list.isEmpty() || list.size() > MAX_REPLICAS) {
      problems.add(problem("replicas", "\"replicas\" must be an array of 1 to " + MAX_REPLICAS + " base URLs like "
          + "\"http://127.0.0.1:9001\"."));
      return null;
    }
    List<String> out = new ArrayList<>();
    for (Object o : list) {
      String why = o instanceof String s ? urlProblem(s) : "is not a string";
      if (why != null) {
        problems.add(problem("replicas", "\"replicas\": " + describe(o) + " " + why + "; use an absolute http:// "
            + "or https:// URL such as \"http://127.0.0.1:9001\"."));
        return null;
      }
      String url = (String) o;
      out.add(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
    }
    return out;
  }

  /** Why {@code url} is not a usable replica base URL, or null. */
  static String urlProblem(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      return "is not a URL";
    }
    String scheme = uri.getScheme();
    if (scheme == null || !uri.isAbsolute()) {
      return "is not absolute";
    }
    if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
      return "is not http or https";
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      return "has no host";
    }
    if (uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      return "must not carry user info, a query or a fragment";
    }
    return null;
  }

  private static Launch launch(Object raw, List<JsonObject> problems) {
    if (!(raw instanceof JsonObject o)) {
      problems.add(problem("launch", "\"launch\" must be an object like {\"command\": [\"java\", \"-jar\", "
          + "\"model.jar\"], \"replicas\": 2, \"idle_stop_seconds\": 600}."));
      return null;
    }
    for (String key : o.fieldNames()) {
      if (!key.equals("command") && !key.equals("replicas") && !key.equals("idle_stop_seconds")) {
        problems.add(problem("launch." + key, "\"launch." + key + "\" is not a setting; use command, replicas and "
            + "idle_stop_seconds."));
        return null;
      }
    }
    List<String> command = new ArrayList<>();
    Object rawCommand = o.getValue("command");
    boolean ok = rawCommand instanceof JsonArray a && !a.isEmpty() && a.size() <= 256;
    if (ok) {
      for (Object part : (JsonArray) rawCommand) {
        if (!(part instanceof String s) || s.length() > 8192 || s.indexOf('\0') >= 0) {
          ok = false;
          break;
        }
        command.add(s);
      }
      ok = ok && !command.get(0).isBlank();
    }
    if (!ok) {
      problems.add(problem("launch.command", "\"launch.command\" must be a non-empty array of strings, the program "
          + "first (no shell), like [\"java\", \"-jar\", \"model.jar\"]."));
      return null;
    }
    int replicas = integer(o, "replicas", 1, MAX_REPLICAS, 1, problems, "launch.replicas");
    int idle = integer(o, "idle_stop_seconds", 0, 7 * 86_400, 600, problems, "launch.idle_stop_seconds");
    return new Launch(List.copyOf(command), replicas, idle);
  }

  private static String path(JsonObject body, String field, List<JsonObject> problems) {
    Object raw = body.getValue(field);
    if (raw == null) {
      return null;
    }
    if (!(raw instanceof String s) || !s.startsWith("/") || s.length() > 1000 || s.contains("?") || s.contains("#")
        || s.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
      problems.add(problem(field, "\"" + field + "\" must be a path starting with '/', like \"/predict\"."));
      return null;
    }
    return s;
  }

  private static int integer(JsonObject o, String field, int min, int max, int dflt, List<JsonObject> problems) {
    return integer(o, field, min, max, dflt, problems, field);
  }

  private static int integer(JsonObject o, String field, int min, int max, int dflt, List<JsonObject> problems,
      String label) {
    Object raw = o.getValue(field);
    if (raw == null) {
      return dflt;
    }
    if (raw instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && n.doubleValue() >= min
        && n.doubleValue() <= max) {
      return n.intValue();
    }
    problems.add(problem(label, "\"" + label + "\" must be a whole number from " + min + " to " + max + "; got "
        + describe(raw) + "."));
    return dflt;
  }

  private static JsonObject problem(String field, String message) {
    return new JsonObject().put("field", field).put("message", message);
  }

  private static String describe(Object raw) {
    if (raw == null) {
      return "nothing";
    }
    String text = raw instanceof String s ? "\"" + s + "\"" : String.valueOf(raw);
    return text.length() > 80 ? text.substring(0, 80) + "…" : text;
  }
}
