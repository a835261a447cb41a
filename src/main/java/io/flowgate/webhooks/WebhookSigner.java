package io.flowgate.webhooks;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Standard Webhooks signatures: {@code v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">}, over the
 * exact bytes sent; several space-separated when a rotated secret is still within its overlap. Also the matching
 * verifier, for receivers written in Java and for tests. Pure; any thread.
 */
public final class WebhookSigner {
  /** How far a verifier accepts a timestamp from its own clock (the spec's 5 minutes). */
  public static final long TOLERANCE_SECONDS = 5 * 60;
  private static final String HMAC_SHA256 = "HmacSHA256";

  private WebhookSigner() {
  }

  /** The {@code webhook-signature} header value: one {@code v1} signature per secret, newest first. */
  public static String signatureHeader(String messageId, long timestamp, byte[] body, List<String> secrets) {
    StringBuilder header = new StringBuilder();
    for (String secret : secrets) {
      if (header.length() > 0) {
        header.append(' ');
      }
      header.append(sign(WebhookSecrets.key(secret), messageId, timestamp, body));
    }
    return header.toString();
  }

  /** One signature, {@code v1,<base64>}. */
  public static String sign(byte[] key, String messageId, long timestamp, byte[] body) {
    try {
      Mac mac = Mac.getInstance(HMAC_SHA256);
      mac.init(new SecretKeySpec(key, HMAC_SHA256));
      mac.update((messageId + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
      return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HMAC-SHA256 is part of every JDK", e);
    }
  }

  /**
   * Whether a delivery is genuine: its timestamp is within {@link #TOLERANCE_SECONDS} of {@code nowSeconds} and one
   * of the {@code v1} signatures in {@code signatureHeader} is {@code secret}'s over these bytes (compared in constant
   * time).
   */
  public static boolean verify(String secret, String messageId, String timestamp, String signatureHeader,
      byte[] body, long nowSeconds) {
    if (messageId == null || timestamp == null || signatureHeader == null) {
      return false;
    }
    long ts;
    try {
      ts = Long.parseLong(timestamp);
    } catch (NumberFormatException e) {
      return false;
    }
    if (Math.abs(nowSeconds - ts) > TOLERANCE_SECONDS) {
      return false;
    }
    byte[] expected = sign(WebhookSecrets.key(secret), messageId, ts, body).getBytes(StandardCharsets.UTF_8);
    boolean match = false;
    for (String candidate : signatureHeader.split(" ")) {
      if (candidate.startsWith("v1,")) {
        match |= MessageDigest.isEqual(expected, candidate.getBytes(StandardCharsets.UTF_8));
      }
    }
    return match;
  }
}
