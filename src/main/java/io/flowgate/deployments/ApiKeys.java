package io.flowgate.deployments;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.zip.CRC32;

/**
 * The API key format of DESIGN §2.1: {@code sk-} + 32 URL-safe base64 characters (192 random bits) + 6 characters of
 * CRC32 checksum, 41 characters in all. The checksum lets a mistyped or made-up key be refused on the event loop
 * before any lookup; it is not a security control (the hash lookup is). Thread-safe.
 */
public final class ApiKeys {
  public static final String PREFIX = "sk-";
  static final int RANDOM_BYTES = 24;
  static final int BODY_CHARS = 32;
  static final int CHECKSUM_CHARS = 6;
  public static final int LENGTH = PREFIX.length() + BODY_CHARS + CHECKSUM_CHARS;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private ApiKeys() {
  }

  /** A new random key. */
  public static String generate() {
    return generate(PREFIX);
  }

  /** A new random secret with the given prefix (API keys use {@code sk-}, management tokens {@code mt-}). */
  public static String generate(String prefix) {
    byte[] random = new byte[RANDOM_BYTES];
    RANDOM.nextBytes(random);
    String body = B64.encodeToString(random);
    return prefix + body + checksum(body);
  }

  /**
   * Whether {@code key} has the shape and checksum of a flowgate key. Allocation-free: safe to call first on every
   * request.
   */
  public static boolean wellFormed(CharSequence key) {
    return wellFormed(key, PREFIX);
  }

  /** As {@link #wellFormed(CharSequence)} for secrets with another prefix. */
  public static boolean wellFormed(CharSequence key, String prefix) {
    if (key == null || key.length() != prefix.length() + BODY_CHARS + CHECKSUM_CHARS) {
      return false;
    }
    for (int i = 0; i < prefix.length(); i++) {
      if (key.charAt(i) != prefix.charAt(i)) {
        return false;
      }
    }
    CRC32 crc = new CRC32();
    int bodyEnd = prefix.length() + BODY_CHARS;
    for (int i = prefix.length(); i < key.length(); i++) {
      char c = key.charAt(i);
      if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
        return false;
      }
      if (i < bodyEnd) {
        crc.update(c);
      }
    }
    long value = crc.getValue();
    // The checksum is the 4 CRC bytes in URL-safe base64 (6 characters); compare character by character.
    byte[] bytes = {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    String expected = B64.encodeToString(bytes);
    for (int i = 0; i < CHECKSUM_CHARS; i++) {
      if (key.charAt(bodyEnd + i) != expected.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  static String checksum(String body) {
    CRC32 crc = new CRC32();
    crc.update(body.getBytes(StandardCharsets.US_ASCII));
    long value = crc.getValue();
    return B64.encodeToString(new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8),
        (byte) value});
  }

  /** SHA-256 of the key: the only form that is stored. */
  public static byte[] hash(CharSequence key) {
    byte[] bytes = new byte[key.length()];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) key.charAt(i);
    }
    // One digest per thread, reset by digest(): looking one up per call was a measurable part of a trigger.
    return SHA256.get().digest(bytes);
  }

  /** Constant-time comparison of two hashes. */
  public static boolean sameHash(byte[] a, byte[] b) {
    return MessageDigest.isEqual(a, b);
  }

  /** The display form: first 8 and last 5 characters around {@code ********}. */
  public static String mask(String key) {
    if (key.length() < 14) {
      return "********";
    }
    return key.substring(0, 8) + "********" + key.substring(key.length() - 5);
  }

  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(ApiKeys::sha256);

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
