package io.flowgate.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * Reads the configuration once: the defaults shipped in the jar (a copy of {@code conf/flowgate.yaml}), then the
 * file on disk, then {@code FLOWGATE_<SECTION>_<KEY>} environment variables; validates it and lists every problem.
 * Runs on the main thread at start.
 */
public final class ConfigLoader {
  static final String DEFAULTS_RESOURCE = "flowgate.yaml";
  /** The longest overlap a key rotation may give the old key: 30 days. */
  public static final long MAX_ROTATION_OVERLAP_SECONDS = 30L * 86_400;
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private ConfigLoader() {
  }

  /** Loads {@code file} (if it exists) over the shipped defaults, then applies {@code env}. */
  public static GatewayConfig load(Path file, Map<String, String> env) throws ConfigException {
    List<String> problems = new ArrayList<>();
    ObjectNode tree = defaults();
    if (file != null && Files.isRegularFile(file)) {
      try {
        JsonNode fromFile = YAML.readTree(file.toFile());
        if (fromFile != null && !fromFile.isMissingNode() && !fromFile.isNull()) {
          if (!fromFile.isObject()) {
            problems.add(file + ": must be a YAML mapping of sections");
          } else {
            merge(tree, (ObjectNode) fromFile, "", problems, file.toString());
          }
        }
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        problems.add(file + ": not valid YAML: " + e.getOriginalMessage());
      } catch (IOException e) {
        problems.add(file + ": cannot be read: " + e.getMessage());
      }
    }
    applyEnv(tree, env, problems);
    // Bind even when problems were found already, so that every problem is listed at once.
    return bind(tree, problems);
  }

  private static ObjectNode defaults() {
    try (InputStream in = ConfigLoader.class.getClassLoader().getResourceAsStream(DEFAULTS_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(DEFAULTS_RESOURCE + " missing from the classpath (a broken build)");
      }
      return (ObjectNode) YAML.readTree(in);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read shipped defaults", e);
    }
  }

  private static void merge(ObjectNode target, ObjectNode source, String path, List<String> problems, String origin) {
    Iterator<Map.Entry<String, JsonNode>> fields = source.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      String key = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
      JsonNode existing = target.get(field.getKey());
      if (existing == null) {
        problems.add(origin + ": unknown key '" + key + "'");
      } else if (existing.isObject()) {
        if (!field.getValue().isObject()) {
          problems.add(origin + ": '" + key + "' must be a section (a mapping)");
        } else {
          merge((ObjectNode) existing, (ObjectNode) field.getValue(), key, problems, origin);
        }
      } else {
        target.set(field.getKey(), field.getValue());
      }
    }
  }

  private static void applyEnv(ObjectNode tree, Map<String, String> env, List<String> problems) {
    tree.fields().forEachRemaining(section -> {
      if (!section.getValue().isObject()) {
        return;
      }
      ObjectNode sectionNode = (ObjectNode) section.getValue();
      List<String> keys = new ArrayList<>();
      sectionNode.fieldNames().forEachRemaining(keys::add);
      for (String key : keys) {
        String name = envName(section.getKey(), key);
        String value = env.get(name);
        if (value != null) {
          JsonNode current = sectionNode.get(key);
          sectionNode.set(key, parseEnvValue(name, value, current, problems));
        }
      }
    });
    if (tree.path("admin").path("token").asText("").length() > 0 && !env.containsKey("FLOWGATE_ADMIN_TOKEN")) {
      problems.add("admin.token is a secret: set it only through the environment variable FLOWGATE_ADMIN_TOKEN, "
          + "not in a file");
    }
  }

  /** {@code http.port} → {@code FLOWGATE_HTTP_PORT}. */
  public static String envName(String section, String key) {
    return ("FLOWGATE_" + section + "_" + key).toUpperCase(Locale.ROOT);
  }

  private static JsonNode parseEnvValue(String name, String value, JsonNode current, List<String> problems) {
    if (current.isIntegralNumber()) {
      try {
        return YAML.getNodeFactory().numberNode(Long.parseLong(value.trim()));
      } catch (NumberFormatException e) {
        problems.add(name + "=" + value + ": must be a whole number");
        return current;
      }
    }
    if (current.isBoolean()) {
      String v = value.trim().toLowerCase(Locale.ROOT);
      if (v.equals("true") || v.equals("false")) {
        return YAML.getNodeFactory().booleanNode(v.equals("true"));
      }
      problems.add(name + "=" + value + ": must be true or false");
      return current;
    }
    if (current.isArray()) {
      // A list of whole numbers: "100,200,400".
      ArrayNode list = YAML.getNodeFactory().arrayNode();
      for (String part : value.split(",", -1)) {
        try {
          list.add(Long.parseLong(part.trim()));
        } catch (NumberFormatException e) {
          problems.add(name + "=" + value + ": must be whole numbers separated by commas");
          return current;
        }
      }
      return list;
    }
    return YAML.getNodeFactory().textNode(value);
  }

  private static GatewayConfig bind(ObjectNode t, List<String> problems) throws ConfigException {
    Reader r = new Reader(t, problems);
    GatewayConfig.Http http = new GatewayConfig.Http(
        r.text("http", "host", false),
        (int) r.number("http", "port", 0, 65535),
        (int) r.number("http", "event_loops", 0, 1024),
        (int) r.number("http", "max_body_bytes", 1, Integer.MAX_VALUE),
        (int) r.number("http", "max_header_bytes", 1024, 1 << 20),
        (int) r.number("http", "max_json_depth", 2, 10_000),
        Duration.ofSeconds(r.number("http", "idle_timeout_seconds", 0, 86_400)),
        Duration.ofSeconds(r.number("http", "shutdown_grace_seconds", 0, 3600)),
        publicUrl(r.text("http", "public_url", true), problems));
    String token = r.text("admin", "token", true);
    if (!token.isEmpty() && token.length() < 16) {
      problems.add("FLOWGATE_ADMIN_TOKEN: must be at least 16 characters (use a long random string)");
    }
    String nodeId = r.text("node", "id", true);
    if (nodeId.isEmpty()) {
      nodeId = "node-" + UUID.randomUUID().toString().substring(0, 8);
    } else if (!nodeId.matches("[A-Za-z0-9._-]{1,64}")) {
      problems.add("node.id '" + nodeId + "': use 1 to 64 letters, digits, '.', '_' or '-'");
    }
    String redisUrl = r.text("redis", "url", true);
    if (!redisUrl.isEmpty() && !validUrl(redisUrl, "redis", "rediss")) {
      problems.add("redis.url '" + redisUrl + "': must look like redis://host:port[/db]");
    }
    String pgUrl = r.text("pg", "url", true);
    if (!pgUrl.isEmpty() && !validUrl(pgUrl, "postgresql", "postgres")) {
      problems.add("pg.url: must look like postgresql://user[:password]@host:port/database");
    }
    GatewayConfig config = new GatewayConfig(
        http,
        new GatewayConfig.Admin(token),
        new GatewayConfig.Node(nodeId),
        new GatewayConfig.Data(Path.of(r.text("data", "dir", false))),
        new GatewayConfig.Redis(redisUrl, r.text("redis", "key_prefix", false),
            (int) r.number("redis", "pool_size", 1, 1024),
            Duration.ofMillis(r.number("redis", "command_timeout_ms", 1, 600_000))),
        new GatewayConfig.Pg(pgUrl, (int) r.number("pg", "pool_size", 1, 1024),
            Duration.ofMillis(r.number("pg", "statement_timeout_ms", 1, 3_600_000))),
        new GatewayConfig.Runs(
            Duration.ofSeconds(r.number("runs", "default_timeout_seconds", 1, 7 * 86_400)),
            Duration.ofSeconds(r.number("runs", "state_ttl_seconds", 60, 90 * 86_400)),
            Duration.ofSeconds(r.number("runs", "sync_state_ttl_seconds", 60, 90 * 86_400)),
            (int) r.number("runs", "worker_concurrency", 1, 100_000),
            Duration.ofMillis(r.number("runs", "queue_block_ms", 10, 60_000)),
            Duration.ofMillis(r.number("runs", "history_flush_ms", 10, 60_000)),
            (int) r.number("runs", "history_batch_size", 1, 10_000),
            Duration.ofMillis(r.number("runs", "claim_idle_ms", 100, 86_400_000)),
            Duration.ofMillis(r.number("runs", "heartbeat_ms", 50, 3_600_000)),
            (int) r.number("runs", "max_deliveries", 1, 1000),
            Duration.ofMillis(r.number("runs", "reconcile_interval_ms", 100, 86_400_000)),
            Duration.ofMillis(r.number("runs", "reconcile_grace_ms", 100, 86_400_000)),
            Duration.ofMillis(r.number("runs", "reap_interval_ms", 50, 3_600_000)),
            Duration.ofSeconds(r.number("runs", "max_wait_seconds", 1, 3600))),
        new GatewayConfig.Flows(
            Duration.ofMillis(r.number("flows", "expression_timeout_ms", 1, 600_000)),
            (int) r.number("flows", "expression_max_depth", 10, 100_000),
            Duration.ofMillis(r.number("flows", "http_timeout_ms", 1, 3_600_000)),
            (int) r.number("flows", "http_max_response_bytes", 1024, Integer.MAX_VALUE)),
        new GatewayConfig.Cache(Duration.ofSeconds(r.number("cache", "ttl_seconds", 1, 86_400))),
        new GatewayConfig.Declarations(Path.of(r.text("declarations", "dir", true))),
        new GatewayConfig.Logging(r.bool("logging", "json")),
        new GatewayConfig.Inference(
            Duration.ofMillis(r.number("inference", "health_interval_ms", 10, 3_600_000)),
            Duration.ofMillis(r.number("inference", "check_timeout_ms", 10, 600_000)),
            Duration.ofMillis(r.number("inference", "connect_timeout_ms", 10, 600_000)),
            (int) r.number("inference", "max_response_bytes", 1024, Integer.MAX_VALUE),
            (int) r.number("inference", "breaker_failures", 1, 100_000),
            Duration.ofMillis(r.number("inference", "breaker_window_ms", 1000, 3_600_000)),
            Duration.ofMillis(r.number("inference", "breaker_reset_ms", 10, 3_600_000)),
            (int) r.number("inference", "max_held_requests", 0, 1_000_000),
            (int) r.number("inference", "pool_size", 1, 10_000),
            (int) r.number("inference", "pool_wait_queue", 0, 1_000_000),
            Duration.ofMillis(r.number("inference", "boot_estimate_ms", 0, 3_600_000))),
        new GatewayConfig.Webhooks(
            r.bool("webhooks", "allow_private_networks"),
            Duration.ofMillis(r.number("webhooks", "timeout_ms", 10, 600_000)),
            r.millisList("webhooks", "retry_schedule_ms", 0, 7 * 86_400_000L),
            (int) r.number("webhooks", "retry_jitter_percent", 0, 100),
            Duration.ofSeconds(r.number("webhooks", "max_retry_after_seconds", 0, 7 * 86_400)),
            Duration.ofSeconds(r.number("webhooks", "secret_overlap_seconds", 0, 30 * 86_400)),
            (int) r.number("webhooks", "max_response_bytes", 0, 1 << 20),
            Duration.ofMillis(r.number("webhooks", "poll_interval_ms", 10, 3_600_000)),
            (int) r.number("webhooks", "concurrency", 1, 10_000),
            Duration.ofMillis(r.number("webhooks", "relay_block_ms", 10, 60_000)),
            Duration.ofMillis(r.number("webhooks", "relay_claim_idle_ms", 100, 86_400_000)),
            Duration.ofDays(r.number("webhooks", "log_retention_days", 1, 3650))),
        new GatewayConfig.Keys(
            Duration.ofSeconds(r.number("keys", "rotation_overlap_seconds", 0, MAX_ROTATION_OVERLAP_SECONDS)),
            Duration.ofMillis(r.number("keys", "last_used_flush_ms", 100, 3_600_000))),
        new GatewayConfig.Usage(
            Duration.ofMillis(r.number("usage", "flush_ms", 100, 3_600_000)),
            Duration.ofDays(r.number("usage", "retention_days", 8, 3650))));
    if (config.runs().heartbeat().compareTo(config.runs().claimIdle()) >= 0) {
      problems.add("runs.heartbeat_ms must be shorter than runs.claim_idle_ms, or live runs would be taken over");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return config;
  }

  /** An absolute http(s) URL without query or fragment, its trailing slashes dropped; empty stays empty. */
  private static String publicUrl(String raw, List<String> problems) {
    String url = raw.trim();
    while (url.endsWith("/")) {
      url = url.substring(0, url.length() - 1);
    }
    if (url.isEmpty()) {
      return "";
    }
    boolean valid;
    try {
      URI uri = new URI(url);
      valid = validUrl(url, "http", "https") && uri.getRawQuery() == null && uri.getRawFragment() == null
          && uri.getRawUserInfo() == null;
    } catch (Exception e) {
      valid = false;
    }
    if (!valid) {
      problems.add("http.public_url (FLOWGATE_HTTP_PUBLIC_URL) '" + raw + "': must be an absolute http:// or "
          + "https:// URL without query, such as https://api.example.com");
      return "";
    }
    return url;
  }

  private static boolean validUrl(String url, String... schemes) {
    try {
      URI uri = new URI(url);
      if (uri.getScheme() == null || uri.getHost() == null) {
        return false;
      }
      for (String s : schemes) {
        if (s.equalsIgnoreCase(uri.getScheme())) {
          return true;
        }
      }
      return false;
    } catch (Exception e) {
      return false;
    }
  }

  /** Typed reads that record a problem instead of throwing, so that every problem is listed at once. */
  private record Reader(ObjectNode tree, List<String> problems) {
    JsonNode node(String section, String key) {
      return tree.path(section).path(key);
    }

    String text(String section, String key, boolean mayBeEmpty) {
      JsonNode n = node(section, key);
      String value = n.isNull() || n.isMissingNode() ? "" : n.asText();
      if (!n.isValueNode() && !n.isNull()) {
        problems.add(section + "." + key + " (" + envName(section, key) + "): must be a single value");
      } else if (!mayBeEmpty && value.isBlank()) {
        problems.add(section + "." + key + " (" + envName(section, key) + "): must not be empty");
      }
      return value;
    }

    long number(String section, String key, long min, long max) {
      JsonNode n = node(section, key);
      if (!n.isIntegralNumber()) {
        problems.add(section + "." + key + " (" + envName(section, key) + "): must be a whole number");
        return min;
      }
      long v = n.asLong();
      if (v < min || v > max) {
        problems.add(section + "." + key + " (" + envName(section, key) + ") = " + v + ": must be between "
            + min + " and " + max);
        return min;
      }
      return v;
    }

    /** A non-empty list of at most 50 whole numbers of milliseconds, each within bounds. */
    List<Duration> millisList(String section, String key, long min, long max) {
      JsonNode n = node(section, key);
      List<Duration> out = new ArrayList<>();
      if (!n.isArray() || n.isEmpty() || n.size() > 50) {
        problems.add(section + "." + key + " (" + envName(section, key) + "): must be a list of 1 to 50 whole numbers"
            + " (milliseconds)");
        return List.of(Duration.ofMillis(min));
      }
      for (JsonNode item : n) {
        if (!item.isIntegralNumber() || item.asLong() < min || item.asLong() > max) {
          problems.add(section + "." + key + " (" + envName(section, key) + "): " + item + " must be a whole number "
              + "between " + min + " and " + max);
          return List.of(Duration.ofMillis(min));
        }
        out.add(Duration.ofMillis(item.asLong()));
      }
      return out;
    }

    boolean bool(String section, String key) {
      JsonNode n = node(section, key);
      if (!n.isBoolean()) {
        problems.add(section + "." + key + " (" + envName(section, key) + "): must be true or false");
        return false;
      }
      return n.asBoolean();
    }
  }
}
