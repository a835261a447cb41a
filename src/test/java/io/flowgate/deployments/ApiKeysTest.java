package io.flowgate.deployments;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiKeysTest {
  @Test
  void generated_keys_have_the_prefix_192_random_bits_and_a_valid_checksum() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      String key = ApiKeys.generate();
      assertThat(key).startsWith("sk-").hasSize(ApiKeys.LENGTH).matches("sk-[A-Za-z0-9_-]{38}");
      assertThat(ApiKeys.wellFormed(key)).isTrue();
      assertThat(seen.add(key)).isTrue();
    }
    // 24 random bytes are 32 base64 characters: 192 bits.
    assertThat(ApiKeys.RANDOM_BYTES * 8).isGreaterThanOrEqualTo(192);
  }

  @Test
  void any_single_character_change_breaks_the_checksum() {
    String key = ApiKeys.generate();
    for (int i = 3; i < key.length(); i++) {
      char c = key.charAt(i);
      char other = c == 'A' ? 'B' : 'A';
      String changed = key.substring(0, i) + other + key.substring(i + 1);
      assertThat(ApiKeys.wellFormed(changed)).as("changed at %d", i).isFalse();
    }
  }

  @Test
  void malformed_keys_are_refused() {
    String key = ApiKeys.generate();
    assertThat(ApiKeys.wellFormed(null)).isFalse();
    assertThat(ApiKeys.wellFormed("")).isFalse();
    assertThat(ApiKeys.wellFormed("sk-")).isFalse();
    assertThat(ApiKeys.wellFormed(key + "x")).isFalse();
    assertThat(ApiKeys.wellFormed(key.substring(1))).isFalse();
    assertThat(ApiKeys.wellFormed("pk-" + key.substring(3))).isFalse();
    assertThat(ApiKeys.wellFormed(key.substring(0, 10) + "+" + key.substring(11))).isFalse();
    assertThat(ApiKeys.wellFormed(key.substring(0, 10) + "é" + key.substring(11))).isFalse();
  }

  @Test
  void other_prefixes_use_the_same_format() {
    String token = ApiKeys.generate("mt-");
    assertThat(ApiKeys.wellFormed(token, "mt-")).isTrue();
    assertThat(ApiKeys.wellFormed(token)).isFalse();
  }

  @Test
  void keys_are_masked_as_first_8_and_last_5() {
    String key = "sk-EuT64abcdefghijklmnopqrstuvwxyz0oyU_O";
    assertThat(ApiKeys.mask(key)).isEqualTo("sk-EuT64********oyU_O");
  }

  @Test
  void hashes_are_sha256_and_compared_by_value() {
    String key = ApiKeys.generate();
    byte[] a = ApiKeys.hash(key);
    assertThat(a).hasSize(32);
    assertThat(ApiKeys.sameHash(a, ApiKeys.hash(key))).isTrue();
    assertThat(ApiKeys.sameHash(a, ApiKeys.hash(ApiKeys.generate()))).isFalse();
  }
}
