package io.flowgate.webhooks;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * Webhook signing secrets in the Standard Webhooks form: {@code whsec_} followed by the base64 of 24 random bytes
 * (192 bits), which every reference library accepts as it is. Any thread.
 */
public final class WebhookSecrets {
  public static final String PREFIX = "whsec_";
  private static final int KEY_BYTES = 24;
  private static final SecureRandom RANDOM = new SecureRandom();

  private WebhookSecrets() {
  }

  /** A new secret. */
  public static String generate() {
    byte[] key = new byte[KEY_BYTES];
    RANDOM.nextBytes(key);
    return PREFIX + Base64.getEncoder().encodeToString(key);
  }

  /** The HMAC key of {@code secret} (with or without its prefix); throws IllegalArgumentException when malformed. */
  public static byte[] key(String secret) {
    String encoded = secret.startsWith(PREFIX) ? secret.substring(PREFIX.length()) : secret;
    byte[] key = Base64.getDecoder().decode(encoded);
    if (key.length == 0) {
      throw new IllegalArgumentException("empty webhook secret");
    }
    return key;
  }
}
