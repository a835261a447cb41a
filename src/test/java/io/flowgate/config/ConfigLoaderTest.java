package io.flowgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir
  Path dir;

  @Test
  void the_shipped_defaults_load_without_a_file_or_environment() throws Exception {
    GatewayConfig c = ConfigLoader.load(null, Map.of());
    assertThat(c.http().port()).isEqualTo(8080);
    assertThat(c.http().maxBodyBytes()).isEqualTo(1_048_576);
    assertThat(c.redis().embedded()).isTrue();
    assertThat(c.pg().embedded()).isTrue();
    assertThat(c.admin().enabled()).isFalse();
    assertThat(c.runs().defaultTimeout()).isEqualTo(Duration.ofHours(1));
    assertThat(c.node().id()).startsWith("node-");
  }

  @Test
  void environment_variables_override_each_key_by_section_and_name() throws Exception {
    GatewayConfig c = ConfigLoader.load(null, Map.of(
        "FLOWGATE_HTTP_PORT", "9090",
        "FLOWGATE_ADMIN_TOKEN", "a-long-enough-admin-token",
        "FLOWGATE_REDIS_URL", "redis://127.0.0.1:6379/1",
        "FLOWGATE_PG_URL", "postgresql://postgres@127.0.0.1:5432/flowgate",
        "FLOWGATE_NODE_ID", "node-a",
        "FLOWGATE_LOGGING_JSON", "false",
        "FLOWGATE_RUNS_DEFAULT_TIMEOUT_SECONDS", "30"));
    assertThat(c.http().port()).isEqualTo(9090);
    assertThat(c.admin().token()).isEqualTo("a-long-enough-admin-token");
    assertThat(c.redis().url()).isEqualTo("redis://127.0.0.1:6379/1");
    assertThat(c.redis().embedded()).isFalse();
    assertThat(c.pg().embedded()).isFalse();
    assertThat(c.node().id()).isEqualTo("node-a");
    assertThat(c.logging().json()).isFalse();
    assertThat(c.runs().defaultTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.admin().toString()).doesNotContain("a-long-enough-admin-token");
  }

  @Test
  void keys_and_usage_take_their_defaults_and_refuse_a_retention_shorter_than_the_longest_window() throws Exception {
    GatewayConfig defaults = ConfigLoader.load(null, Map.of());
    assertThat(defaults.keys()).isEqualTo(GatewayConfig.Keys.defaults());
    assertThat(defaults.keys().rotationOverlap()).isEqualTo(Duration.ofDays(1));
    assertThat(defaults.usage()).isEqualTo(GatewayConfig.Usage.defaults());

    GatewayConfig set = ConfigLoader.load(null, Map.of("FLOWGATE_KEYS_ROTATION_OVERLAP_SECONDS", "0",
        "FLOWGATE_KEYS_LAST_USED_FLUSH_MS", "250", "FLOWGATE_USAGE_FLUSH_MS", "1000"));
    assertThat(set.keys().rotationOverlap()).isZero();
    assertThat(set.keys().lastUsedFlush()).isEqualTo(Duration.ofMillis(250));
    assertThat(set.usage().flush()).isEqualTo(Duration.ofSeconds(1));

    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("FLOWGATE_USAGE_RETENTION_DAYS", "7",
        "FLOWGATE_KEYS_ROTATION_OVERLAP_SECONDS", "2592001")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("FLOWGATE_USAGE_RETENTION_DAYS")
        .hasMessageContaining("FLOWGATE_KEYS_ROTATION_OVERLAP_SECONDS");
  }

  @Test
  void webhooks_default_to_the_guard_on_and_a_svix_like_schedule_and_take_a_schedule_from_the_environment()
      throws Exception {
    GatewayConfig.Webhooks defaults = ConfigLoader.load(null, Map.of()).webhooks();
    assertThat(defaults.allowPrivateNetworks()).isFalse();
    assertThat(defaults.timeout()).isEqualTo(Duration.ofSeconds(15));
    assertThat(defaults.secretOverlap()).isEqualTo(Duration.ofHours(24));
    assertThat(defaults.retrySchedule()).hasSize(7).startsWith(Duration.ofSeconds(5)).endsWith(Duration.ofHours(10));
    assertThat(defaults).isEqualTo(GatewayConfig.Webhooks.defaults());

    GatewayConfig.Webhooks set = ConfigLoader.load(null, Map.of(
        "FLOWGATE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "true",
        "FLOWGATE_WEBHOOKS_RETRY_SCHEDULE_MS", "100, 200,400",
        "FLOWGATE_WEBHOOKS_TIMEOUT_MS", "500")).webhooks();
    assertThat(set.allowPrivateNetworks()).isTrue();
    assertThat(set.retrySchedule()).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200),
        Duration.ofMillis(400));
    assertThat(set.timeout()).isEqualTo(Duration.ofMillis(500));

    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("FLOWGATE_WEBHOOKS_RETRY_SCHEDULE_MS", "1s,2s",
        "FLOWGATE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "yes")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("FLOWGATE_WEBHOOKS_RETRY_SCHEDULE_MS")
        .hasMessageContaining("FLOWGATE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS");
  }

  @Test
  void a_file_overrides_the_defaults_and_the_environment_overrides_the_file() throws Exception {
    Path file = dir.resolve("flowgate.yaml");
    Files.writeString(file, "http:\n  port: 7000\n  max_body_bytes: 2048\n");
    GatewayConfig fromFile = ConfigLoader.load(file, Map.of());
    assertThat(fromFile.http().port()).isEqualTo(7000);
    assertThat(fromFile.http().maxBodyBytes()).isEqualTo(2048);
    GatewayConfig fromEnv = ConfigLoader.load(file, Map.of("FLOWGATE_HTTP_PORT", "7001"));
    assertThat(fromEnv.http().port()).isEqualTo(7001);
    assertThat(fromEnv.http().maxBodyBytes()).isEqualTo(2048);
  }

  @Test
  void every_problem_is_listed_at_once() throws Exception {
    Path file = dir.resolve("flowgate.yaml");
    Files.writeString(file, "http:\n  port: 70000\n  prot: 1\nnosuch:\n  key: 1\n");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of()))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).problems())
            .anyMatch(p -> p.contains("http.prot"))
            .anyMatch(p -> p.contains("nosuch")));
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(
        "FLOWGATE_HTTP_PORT", "eighty",
        "FLOWGATE_ADMIN_TOKEN", "short",
        "FLOWGATE_REDIS_URL", "localhost:6379",
        "FLOWGATE_LOGGING_JSON", "yes",
        "FLOWGATE_HTTP_MAX_BODY_BYTES", "0")))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).problems())
            .hasSizeGreaterThanOrEqualTo(5)
            .anyMatch(p -> p.contains("FLOWGATE_HTTP_PORT"))
            .anyMatch(p -> p.contains("FLOWGATE_ADMIN_TOKEN"))
            .anyMatch(p -> p.contains("redis.url"))
            .anyMatch(p -> p.contains("FLOWGATE_LOGGING_JSON"))
            .anyMatch(p -> p.contains("FLOWGATE_HTTP_MAX_BODY_BYTES")));
  }

  @Test
  void the_admin_token_is_refused_in_a_file() throws Exception {
    Path file = dir.resolve("flowgate.yaml");
    Files.writeString(file, "admin:\n  token: a-long-enough-admin-token\n");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of()))
        .hasMessageContaining("FLOWGATE_ADMIN_TOKEN");
  }

  @Test
  void a_file_that_is_not_yaml_is_named_in_the_problem() throws Exception {
    Path file = dir.resolve("flowgate.yaml");
    Files.writeString(file, "http: [unclosed\n");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of()))
        .hasMessageContaining(file.toString());
  }

  @Test
  void env_names_follow_section_and_key() {
    assertThat(ConfigLoader.envName("http", "port")).isEqualTo("FLOWGATE_HTTP_PORT");
    assertThat(ConfigLoader.envName("redis", "key_prefix")).isEqualTo("FLOWGATE_REDIS_KEY_PREFIX");
  }
}
