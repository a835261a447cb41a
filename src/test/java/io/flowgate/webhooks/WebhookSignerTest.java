package io.flowgate.webhooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.standardwebhooks.Webhook;
import com.standardwebhooks.exceptions.WebhookVerificationException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Standard Webhooks signing against the spec's published test vector and the reference Java library
 * ({@code com.standardwebhooks}): what flowgate signs the library accepts, what the library signs flowgate's verifier
 * accepts, and tampering, stale timestamps and missing headers are refused by both (RELIABILITY W4).
 */
class WebhookSignerTest {
  // The test vector published with the specification and its reference libraries.
  private static final String SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  private static final String SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  private static final long SPEC_TIMESTAMP = 1614265330;
  private static final String SPEC_PAYLOAD = "{\"test\": 2432232314}";
  private static final String SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Map<String, List<String>> headers(String id, long ts, String signature) {
    return Map.of("webhook-id", List.of(id), "webhook-timestamp", List.of(Long.toString(ts)),
        "webhook-signature", List.of(signature));
  }

  private static boolean libraryAccepts(String secret, String body, Map<String, List<String>> headers)
      throws Exception {
    try {
      new Webhook(secret).verify(body, headers);
      return true;
    } catch (WebhookVerificationException e) {
      return false;
    }
  }

  @Test
  void the_published_test_vector_signs_to_the_published_signature() throws Exception {
    assertThat(WebhookSigner.signatureHeader(SPEC_ID, SPEC_TIMESTAMP, utf8(SPEC_PAYLOAD), List.of(SPEC_SECRET)))
        .isEqualTo(SPEC_SIGNATURE);
    // The secret works without its prefix too, as the spec says.
    assertThat(WebhookSigner.sign(WebhookSecrets.key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), SPEC_ID, SPEC_TIMESTAMP,
        utf8(SPEC_PAYLOAD))).isEqualTo(SPEC_SIGNATURE);
    assertThat(new Webhook(SPEC_SECRET).sign(SPEC_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD)).isEqualTo(SPEC_SIGNATURE);
  }

  @Test
  void what_flowgate_signs_the_reference_library_verifies_and_the_other_way_round() throws Exception {
    Random random = new Random(5);
    long now = Instant.now().getEpochSecond();
    for (int i = 0; i < 300; i++) {
      String secret = WebhookSecrets.generate();
      String id = "msg_" + Long.toHexString(random.nextLong());
      StringBuilder body = new StringBuilder("{\"n\":").append(i).append(",\"s\":\"");
      for (int c = random.nextInt(200); c > 0; c--) {
        // Multi-byte text too: the signature is over the UTF-8 bytes sent.
        body.append((char) (random.nextBoolean() ? 'a' + random.nextInt(26) : 0x00e0 + random.nextInt(0x100)));
      }
      String payload = body.append("\"}").toString();
      String ours = WebhookSigner.signatureHeader(id, now, utf8(payload), List.of(secret));
      assertThat(libraryAccepts(secret, payload, headers(id, now, ours))).as("library verifies flowgate's").isTrue();
      String theirs = new Webhook(secret).sign(id, now, payload);
      assertThat(WebhookSigner.verify(secret, id, Long.toString(now), theirs, utf8(payload), now))
          .as("flowgate verifies the library's").isTrue();
    }
  }

  @Test
  void tampered_stale_or_incomplete_deliveries_are_refused_by_both_verifiers() throws Exception {
    String secret = WebhookSecrets.generate();
    long now = Instant.now().getEpochSecond();
    String id = "msg_abc";
    String body = "{\"type\":\"run.completed\"}";
    String signature = WebhookSigner.signatureHeader(id, now, utf8(body), List.of(secret));

    String tampered = "{\"type\":\"run.complete!\"}";
    assertThat(WebhookSigner.verify(secret, id, Long.toString(now), signature, utf8(tampered), now)).isFalse();
    assertThat(libraryAccepts(secret, tampered, headers(id, now, signature))).isFalse();

    for (long shift : new long[] {-301, 301}) {
      long ts = now + shift;
      String resigned = WebhookSigner.signatureHeader(id, ts, utf8(body), List.of(secret));
      assertThat(WebhookSigner.verify(secret, id, Long.toString(ts), resigned, utf8(body), now)).isFalse();
      assertThat(libraryAccepts(secret, body, headers(id, ts, resigned))).isFalse();
    }

    assertThat(WebhookSigner.verify(secret, null, Long.toString(now), signature, utf8(body), now)).isFalse();
    assertThat(WebhookSigner.verify(secret, id, Long.toString(now), null, utf8(body), now)).isFalse();
    assertThat(libraryAccepts(secret, body, Map.of("webhook-id", List.of(id),
        "webhook-timestamp", List.of(Long.toString(now))))).isFalse();
    assertThat(WebhookSigner.verify(WebhookSecrets.generate(), id, Long.toString(now), signature, utf8(body), now))
        .as("another secret").isFalse();
  }

  @Test
  void during_a_rotation_both_secrets_sign_and_either_verifies() throws Exception {
    String newer = WebhookSecrets.generate();
    String older = WebhookSecrets.generate();
    long now = Instant.now().getEpochSecond();
    String body = "{\"x\":1}";
    String header = WebhookSigner.signatureHeader("msg_r", now, utf8(body), List.of(newer, older));
    assertThat(header.split(" ")).hasSize(2).allMatch(s -> s.startsWith("v1,"));
    for (String secret : List.of(newer, older)) {
      assertThat(libraryAccepts(secret, body, headers("msg_r", now, header))).isTrue();
      assertThat(WebhookSigner.verify(secret, "msg_r", Long.toString(now), header, utf8(body), now)).isTrue();
    }
  }

  @Test
  void secrets_are_whsec_prefixed_192_bit_keys_and_never_repeat() {
    String a = WebhookSecrets.generate();
    assertThat(a).startsWith("whsec_").hasSize(6 + 32);
    assertThat(WebhookSecrets.key(a)).hasSize(24);
    assertThat(WebhookSecrets.generate()).isNotEqualTo(a);
    assertThatThrownBy(() -> WebhookSecrets.key("whsec_")).isInstanceOf(IllegalArgumentException.class);
  }
}
