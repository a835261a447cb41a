package io.flowgate.deployments;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.flowgate.GatewayException;
import io.flowgate.flow.NodeTypes;
import io.flowgate.inference.InferenceNodeType;
import io.flowgate.inference.InferenceServerRepository;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the flows, deployments and API keys declared in files (DESIGN §3.1) to the {@code default} profile at start,
 * so that a fresh gateway answers a demo call at once. Every {@code *.yaml}, {@code *.yml} and {@code *.json} file of
 * the directory holds
 * <pre>
 * flows:       [{id, name, nodes, edges}]
 * deployments: [{id, flow_id, name, execution_mode, deployment_type, timeout_seconds, max_body_bytes, rate_limit,
 *                notification, inference_server_id,
 *                api_keys: [{id, hash: "sha256:&lt;hex&gt;", name?, masked?} | {id, env: "VAR_NAME", name?}]}]
 * </pre>
 * Resources keep their declared ids. Applying is idempotent and safe when several nodes start at once (one
 * transaction under an advisory lock, {@code INSERT … ON CONFLICT}); a changed flow becomes a new version and its
 * declared deployments are re-pinned to it. A key's {@code active} flag is left as an operator set it. An invalid
 * file fails the whole apply, before anything is written, with a {@link DeclarationException} naming the file.
 *
 * <p>Any thread: the files are read and their flows compiled on a worker thread when called on a Vert.x context (on
 * the calling thread otherwise, e.g. Main's); the database work returns a Future.
 */
public final class Declarations {
  private static final Logger LOG = LoggerFactory.getLogger(Declarations.class);
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> TOP_LEVEL = Set.of("flows", "deployments");
  private static final Set<String> FLOW_FIELDS = Set.of("id", "name", "nodes", "edges", "description");
  private static final Set<String> KEY_FIELDS = Set.of("id", "hash", "env", "name", "masked");
  private static final String HASH_PREFIX = "sha256:";
  private static final String DECLARED_MASK = "sk-********";

  private Declarations() {
  }

  /** Applies every declaration file in {@code dir} (nothing when it does not exist); env keys from the process. */
  public static Future<Void> apply(Pool pool, Path dir, NodeTypes nodeTypes) {
    return apply(pool, dir, nodeTypes, System.getenv());
  }

  /** As {@link #apply(Pool, Path, NodeTypes)}, reading {@code env: VAR} keys from {@code env}. */
  public static Future<Void> apply(Pool pool, Path dir, NodeTypes nodeTypes, Map<String, String> env) {
    Context context = Vertx.currentContext();
    Future<Loaded> read;
    if (context == null) {
      try {
        read = Future.succeededFuture(new Loaded(dir, read(dir, nodeTypes, env)));
      } catch (DeclarationException e) {
        read = Future.failedFuture(e);
      }
    } else {
      // Reading files and compiling flows block: never on the event loop.
      read = context.executeBlocking(() -> new Loaded(dir, read(dir, nodeTypes, env)), false);
    }
    return read.compose(files -> files.write(pool));
  }

  /**
   * Reads and checks every declaration file in {@code dir} and compiles its flows on a worker thread of {@code vertx},
   * without touching the database: a start does this while the schema is being migrated, then calls
   * {@link Loaded#write(Pool)}. Env keys from the process.
   */
  public static Future<Loaded> load(Vertx vertx, Path dir, NodeTypes nodeTypes) {
    Map<String, String> env = System.getenv();
    return vertx.executeBlocking(() -> new Loaded(dir, read(dir, nodeTypes, env)), false);
  }

  /** Declaration files read, checked and compiled, not yet written. Immutable; write from any thread. */
  public static final class Loaded {
    private final Path dir;
    private final List<DeclaredFile> files;

    private Loaded(Path dir, List<DeclaredFile> files) {
      this.dir = dir;
      this.files = files;
    }

    /** Applies them: the checks that need the database, then one transaction (see the class comment). */
    public Future<Void> write(Pool pool) {
      return files.isEmpty() ? Future.succeededFuture()
          : checkInferenceServers(pool, files).compose(v -> Declarations.write(pool, dir, files));
    }
  }

  private record ServerCall(String where, String nodeId, UUID serverId) {}

  /**
   * Declared flows belong to the default profile, so their {@code inference} nodes may call only its servers: one
   * naming another profile's server fails the apply. One naming a server that does not exist is applied with a
   * warning (its runs fail at that node until it does), so that a start does not hinge on the control plane's data.
   */
  private static Future<Void> checkInferenceServers(Pool pool, List<DeclaredFile> files) {
    List<ServerCall> calls = new ArrayList<>();
    for (DeclaredFile file : files) {
      for (DeclaredFlow flow : file.flows()) {
        InferenceNodeType.serverIds(flow.definition())
            .forEach((nodeId, serverId) -> calls.add(new ServerCall(flow.where(), nodeId, serverId)));
      }
    }
    if (calls.isEmpty()) {
      return Future.succeededFuture();
    }
    Set<UUID> ids = new HashSet<>();
    calls.forEach(call -> ids.add(call.serverId()));
    return new InferenceServerRepository(pool).owners(ids).compose(owners -> {
      for (ServerCall call : calls) {
        UUID owner = owners.get(call.serverId());
        if (owner == null) {
          LOG.warn("{}: node '{}' calls inference server {}, which does not exist; its runs fail at that node until "
              + "it does", call.where(), call.nodeId(), call.serverId());
        } else if (!owner.equals(Profile.DEFAULT_ID)) {
          return Future.failedFuture(new DeclarationException(call.where() + ": node '" + call.nodeId()
              + "': inference server " + call.serverId() + " belongs to another profile; declared flows may call "
              + "only the default profile's servers."));
        }
      }
      return Future.succeededFuture();
    });
  }

  private static Future<Void> write(Pool pool, Path dir, List<DeclaredFile> files) {
    return pool.<Void>withTransaction(conn -> conn.query(DeclarationSql.LOCK).execute()
            .compose(v -> {
              // Every file's flows first, so that a deployment may name a flow declared in another file.
              Future<Void> chain = Future.succeededFuture();
              for (DeclaredFile file : files) {
                for (DeclaredFlow flow : file.flows()) {
                  chain = chain.compose(x -> naming(file, applyFlow(conn, flow)));
                }
              }
              for (DeclaredFile file : files) {
                for (DeclaredDeployment deployment : file.deployments()) {
                  chain = chain.compose(x -> naming(file, applyDeployment(conn, deployment)));
                }
              }
              return chain;
            }))
        .onSuccess(v -> LOG.info("applied declarations from {}: {} flows, {} deployments", dir,
            files.stream().mapToInt(f -> f.flows().size()).sum(),
            files.stream().mapToInt(f -> f.deployments().size()).sum()));
  }

  /** Any failure of {@code step} as a DeclarationException that names the file. */
  private static Future<Void> naming(DeclaredFile file, Future<Void> step) {
    return step.recover(failure -> Future.failedFuture(failure instanceof DeclarationException ? failure
        : new DeclarationException(file.path() + ": could not be applied: " + describe(failure))));
  }

  private static String describe(Throwable failure) {
    if (Rows.isSqlState(failure, Rows.UNIQUE_VIOLATION) && "api_keys_key_hash_key".equals(Rows.constraint(failure))) {
      return "an API key's hash is already used by another key; give each key its own hash";
    }
    return String.valueOf(failure.getMessage());
  }

  // ---- reading and validating (no database) ----

  private record DeclaredFile(Path path, List<DeclaredFlow> flows, List<DeclaredDeployment> deployments) {}

  private record DeclaredFlow(UUID id, JsonObject definition, String where) {}

  private record DeclaredDeployment(Deployment requested, List<DeclaredKey> keys, String where) {}

  private record DeclaredKey(UUID id, byte[] hash, String masked, String name, String where) {}

  private static List<DeclaredFile> read(Path dir, NodeTypes nodeTypes, Map<String, String> env) {
    if (dir == null || !Files.exists(dir)) {
      return List.of();
    }
    if (!Files.isDirectory(dir)) {
      throw new DeclarationException(dir + ": declarations.dir must be a directory of *.yaml or *.json files.");
    }
    List<Path> paths;
    try (Stream<Path> list = Files.list(dir)) {
      paths = list.filter(p -> Files.isRegularFile(p) && isDeclarationFile(p)).sorted().toList();
    } catch (IOException e) {
      throw new DeclarationException(dir + ": cannot list the declarations directory: " + e.getMessage());
    }
    List<DeclaredFile> files = new ArrayList<>();
    Map<UUID, String> seen = new HashMap<>();
    for (Path path : paths) {
      DeclaredFile file = readFile(path, nodeTypes, env);
      for (DeclaredFlow f : file.flows()) {
        unique(seen, f.id(), f.where());
      }
      for (DeclaredDeployment d : file.deployments()) {
        unique(seen, d.requested().id(), d.where());
        for (DeclaredKey k : d.keys()) {
          unique(seen, k.id(), k.where());
        }
      }
      files.add(file);
    }
    return files;
  }

  private static void unique(Map<UUID, String> seen, UUID id, String where) {
    String other = seen.putIfAbsent(id, where);
    if (other != null) {
      throw new DeclarationException(where + ": id " + id + " is already declared by " + other
          + "; every declared resource needs its own id.");
    }
  }

  private static boolean isDeclarationFile(Path p) {
    String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json");
  }

  private static DeclaredFile readFile(Path path, NodeTypes nodeTypes, Map<String, String> env) {
    JsonObject root = parse(path);
    for (String key : root.fieldNames()) {
      if (!TOP_LEVEL.contains(key)) {
        throw new DeclarationException(path + ": unknown top-level key '" + key + "'; use flows and deployments.");
      }
    }
    List<DeclaredFlow> flows = new ArrayList<>();
    JsonArray flowList = array(root, "flows", path.toString());
    for (int i = 0; i < flowList.size(); i++) {
      flows.add(readFlow(object(flowList.getValue(i), path + ": flows[" + i + "]"), path + ": flows[" + i + "]",
          nodeTypes));
    }
    List<DeclaredDeployment> deployments = new ArrayList<>();
    JsonArray deploymentList = array(root, "deployments", path.toString());
    for (int i = 0; i < deploymentList.size(); i++) {
      String where = path + ": deployments[" + i + "]";
      deployments.add(readDeployment(object(deploymentList.getValue(i), where), where, env));
    }
    return new DeclaredFile(path, flows, deployments);
  }

  private static JsonObject parse(Path path) {
    String text;
    try {
      text = Files.readString(path);
    } catch (IOException e) {
      throw new DeclarationException(path + ": cannot read the file: " + e.getMessage());
    }
    if (path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json")) {
      try {
        return text.isBlank() ? new JsonObject() : new JsonObject(text);
      } catch (DecodeException | ClassCastException e) {
        throw new DeclarationException(path + ": not a JSON object: " + e.getMessage());
      }
    }
    try {
      JsonNode tree = YAML.readTree(text);
      if (tree == null || tree.isMissingNode() || tree.isNull()) {
        return new JsonObject();
      }
      if (!tree.isObject()) {
        throw new DeclarationException(path + ": must be a YAML mapping with flows and deployments.");
      }
      return new JsonObject(JSON.writeValueAsString(tree));
    } catch (JsonProcessingException e) {
      throw new DeclarationException(path + ": not valid YAML: " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
    }
  }

  private static JsonArray array(JsonObject root, String key, String where) {
    Object value = root.getValue(key);
    if (value == null) {
      return new JsonArray();
    }
    if (!(value instanceof JsonArray array)) {
      throw new DeclarationException(where + ": '" + key + "' must be a list.");
    }
    return array;
  }

  private static JsonObject object(Object value, String where) {
    if (!(value instanceof JsonObject object)) {
      throw new DeclarationException(where + ": must be a mapping (an object).");
    }
    return object;
  }

  private static UUID id(JsonObject json, String where) {
    Object raw = json.getValue("id");
    UUID id = raw instanceof String s ? Ids.parse(s) : null;
    if (id == null) {
      throw new DeclarationException(where + ": needs an 'id' that is a UUID such as "
          + "7d2f6c1e-3b8a-4c5e-9f10-2a4b6c8d0e1f.");
    }
    return id;
  }

  private static DeclaredFlow readFlow(JsonObject json, String where, NodeTypes nodeTypes) {
    UUID id = id(json, where);
    where = where + " (flow " + id + ")";
    for (String key : json.fieldNames()) {
      if (!FLOW_FIELDS.contains(key)) {
        throw new DeclarationException(where + ": unknown key '" + key + "'; a flow has id, name, nodes, edges.");
      }
    }
    JsonObject body = json.copy();
    body.remove("id");
    try {
      return new DeclaredFlow(id, FlowValidation.definition(body, nodeTypes), where);
    } catch (GatewayException e) {
      throw new DeclarationException(where + ": " + e.detail());
    }
  }

  private static DeclaredDeployment readDeployment(JsonObject json, String where, Map<String, String> env) {
    UUID id = id(json, where);
    where = where + " (deployment " + id + ")";
    JsonObject settingsJson = json.copy();
    settingsJson.remove("id");
    Object rawKeys = settingsJson.remove("api_keys");
    Deployment requested;
    try {
      requested = DeploymentSettings.parse(settingsJson, false).applyTo(new Deployment(id, Profile.DEFAULT_ID, null,
          null, null, ExecutionMode.SYNC, DeploymentType.API, null, null, null, null, null, null, null));
      DeploymentSettings.checkCombination(requested);
    } catch (GatewayException e) {
      throw new DeclarationException(where + ": " + e.detail());
    }
    List<DeclaredKey> keys = new ArrayList<>();
    if (rawKeys != null) {
      if (!(rawKeys instanceof JsonArray list)) {
        throw new DeclarationException(where + ": 'api_keys' must be a list.");
      }
      for (int i = 0; i < list.size(); i++) {
        DeclaredKey key = readKey(object(list.getValue(i), where + ": api_keys[" + i + "]"),
            where + ": api_keys[" + i + "]", env);
        if (key != null) {
          keys.add(key);
        }
      }
    }
    return new DeclaredDeployment(requested, keys, where);
  }

  /** The key, or null when it comes from an environment variable that is not set (skipped with a warning). */
  private static DeclaredKey readKey(JsonObject json, String where, Map<String, String> env) {
    UUID id = id(json, where);
    for (String key : json.fieldNames()) {
      if (!KEY_FIELDS.contains(key)) {
        throw new DeclarationException(where + ": unknown key '" + key + "'; a key has id, hash or env, name, "
            + "masked.");
      }
    }
    Object hash = json.getValue("hash");
    Object var = json.getValue("env");
    Object name = json.getValue("name", "declared");
    Object masked = json.getValue("masked");
    if (!(name instanceof String)) {
      throw new DeclarationException(where + ": 'name' must be a string.");
    }
    if ((hash == null) == (var == null)) {
      throw new DeclarationException(where + ": give exactly one of 'hash: \"sha256:<64 hex digits>\"' and "
          + "'env: VAR_NAME'.");
    }
    if (hash != null) {
      byte[] bytes = hash instanceof String s ? hexHash(s) : null;
      if (bytes == null) {
        throw new DeclarationException(where + ": 'hash' must be \"sha256:\" followed by 64 hex digits (the "
            + "SHA-256 of the key).");
      }
      if (masked != null && !(masked instanceof String)) {
        throw new DeclarationException(where + ": 'masked' must be a string such as \"sk-AbCdE********xYz12\".");
      }
      return new DeclaredKey(id, bytes, masked == null ? DECLARED_MASK : (String) masked, (String) name, where);
    }
    if (!(var instanceof String varName) || varName.isBlank()) {
      throw new DeclarationException(where + ": 'env' must name an environment variable.");
    }
    String plain = env.get(varName);
    if (plain == null || plain.isBlank()) {
      LOG.warn("{}: environment variable {} is not set; skipping API key {}", where, varName, id);
      return null;
    }
    plain = plain.trim();
    if (!ApiKeys.wellFormed(plain)) {
      LOG.warn("{}: environment variable {} does not hold a flowgate API key (sk- and 38 characters with a "
          + "checksum); skipping API key {}", where, varName, id);
      return null;
    }
    return new DeclaredKey(id, ApiKeys.hash(plain), ApiKeys.mask(plain), (String) name, where);
  }

  private static byte[] hexHash(String value) {
    String v = value.trim();
    if (!v.regionMatches(true, 0, HASH_PREFIX, 0, HASH_PREFIX.length())) {
      return null;
    }
    String hex = v.substring(HASH_PREFIX.length());
    if (hex.length() != 64) {
      return null;
    }
    try {
      return HexFormat.of().parseHex(hex.toLowerCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  // ---- applying (inside the transaction) ----

  private static Future<Void> applyFlow(SqlConnection conn, DeclaredFlow flow) {
    UUID profile = Profile.DEFAULT_ID;
    String name = flow.definition().getString("name");
    return conn.preparedQuery(DeclarationSql.FLOW_STATE).execute(Tuple.of(flow.id(), flow.definition()))
        .compose(rows -> {
          if (rows.size() == 0) {
            return conn.preparedQuery(DeclarationSql.INSERT_FLOW).execute(Tuple.of(flow.id(), profile, name))
                .compose(v -> conn.preparedQuery(DeclarationSql.INSERT_VERSION)
                    .execute(Tuple.of(flow.id(), 1, flow.definition())))
                .mapEmpty();
          }
          Row row = rows.iterator().next();
          if (!profile.equals(row.getUUID("profile_id"))) {
            return Future.failedFuture(new DeclarationException(flow.where()
                + ": this id belongs to a flow of another profile; pick another id."));
          }
          if (Boolean.TRUE.equals(row.getBoolean("same"))) {
            return Future.succeededFuture();
          }
          int next = row.getInteger("latest_version") + 1;
          return conn.preparedQuery(DeclarationSql.INSERT_VERSION).execute(Tuple.of(flow.id(), next, flow.definition()))
              .compose(v -> conn.preparedQuery(DeclarationSql.BUMP_FLOW).execute(Tuple.of(flow.id(), profile, next,
                  name)))
              .mapEmpty();
        });
  }

  private static Future<Void> applyDeployment(SqlConnection conn, DeclaredDeployment declared) {
    Deployment d = declared.requested();
    return conn.preparedQuery(DeclarationSql.DEPLOYMENT_OWNER).execute(Tuple.of(d.id()))
        .compose(rows -> {
          UUID owner = Rows.firstOrNull(rows, row -> row.getUUID("profile_id"));
          if (owner != null && !owner.equals(Profile.DEFAULT_ID)) {
            return Future.failedFuture(new DeclarationException(declared.where()
                + ": this id belongs to a deployment of another profile; pick another id."));
          }
          return pin(conn, declared);
        })
        .compose(p -> conn.preparedQuery(DeclarationSql.UPSERT_DEPLOYMENT).execute(Tuple.from(Arrays.asList(
            p.id(), p.profileId(), p.flowId(), p.flowVersion(), p.name(), p.executionMode().wire(),
            p.deploymentType().wire(), p.timeoutSeconds(), p.maxBodyBytes(), p.rateLimit(), p.notification(),
            p.inferenceServerId()))))
        .compose(v -> {
          Future<Void> chain = Future.succeededFuture();
          for (DeclaredKey key : declared.keys()) {
            chain = chain.compose(x -> applyKey(conn, d.id(), key));
          }
          return chain;
        });
  }

  private static Future<Deployment> pin(SqlConnection conn, DeclaredDeployment declared) {
    Deployment d = declared.requested();
    if (d.flowId() == null) {
      String name = d.name() != null ? d.name() : "deployment-" + d.id().toString().substring(0, 8);
      return Future.succeededFuture(withFlow(d, null, name));
    }
    return conn.preparedQuery(DeploymentSql.FLOW_FOR_PIN).execute(Tuple.of(d.flowId(), Profile.DEFAULT_ID))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(new DeclarationException(declared.where() + ": flow_id " + d.flowId()
                + " names no flow of the default profile; declare it under 'flows'."));
          }
          Row row = rows.iterator().next();
          int latest = row.getInteger("latest_version");
          Integer version = d.flowVersion() == null ? Integer.valueOf(latest) : d.flowVersion();
          if (version > latest) {
            return Future.failedFuture(new DeclarationException(declared.where() + ": flow_version " + version
                + " does not exist; flow " + d.flowId() + " has versions 1 to " + latest + "."));
          }
          return Future.succeededFuture(withFlow(d, version, d.name() != null ? d.name() : row.getString("name")));
        });
  }

  private static Deployment withFlow(Deployment d, Integer version, String name) {
    return new Deployment(d.id(), d.profileId(), d.flowId(), version, name, d.executionMode(), d.deploymentType(),
        d.timeoutSeconds(), d.maxBodyBytes(), d.rateLimit(), d.notification(), d.inferenceServerId(), null, null);
  }

  private static Future<Void> applyKey(SqlConnection conn, UUID deploymentId, DeclaredKey key) {
    return conn.preparedQuery(DeclarationSql.KEY_OWNER).execute(Tuple.of(key.id()))
        .compose(rows -> {
          UUID owner = Rows.firstOrNull(rows, row -> row.getUUID("profile_id"));
          if (owner != null && !owner.equals(Profile.DEFAULT_ID)) {
            return Future.failedFuture(new DeclarationException(key.where()
                + ": this id belongs to an API key of another profile; pick another id."));
          }
          return conn.preparedQuery(DeclarationSql.UPSERT_KEY).execute(Tuple.of(key.id(), Profile.DEFAULT_ID,
              deploymentId, Buffer.buffer(key.hash()), key.masked(), key.name()));
        })
        .recover(failure -> Future.failedFuture(Rows.isSqlState(failure, Rows.UNIQUE_VIOLATION)
            ? new DeclarationException(key.where() + ": its hash is already used by another API key; give each "
                + "key its own.")
            : failure))
        .mapEmpty();
  }
}
