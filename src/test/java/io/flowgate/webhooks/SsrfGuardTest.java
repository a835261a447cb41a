package io.flowgate.webhooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.testsupport.Futures;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The SSRF guard of callback URLs (RELIABILITY W5) without a single connection: URL shapes and numeric host spellings
 * ({@link WebhookUrl}), the address classifier over every non-public range ({@link AddressClassifier}), and the guard
 * with a scripted resolver standing in for DNS (every address checked; a name that resolves to loopback, as after DNS
 * rebinding, is refused).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SsrfGuardTest {
  private Vertx vertx;

  @BeforeAll
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  void stop() {
    Futures.await(vertx.close());
  }

  private static InetAddress ip(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static InetAddress ip6(int... words) {
    byte[] b = new byte[16];
    for (int i = 0; i < 8; i++) {
      b[2 * i] = (byte) (words[i] >> 8);
      b[2 * i + 1] = (byte) words[i];
    }
    try {
      // Built from bytes: Java would turn a textual ::ffff:a.b.c.d into an IPv4 address; a resolver may not.
      return java.net.Inet6Address.getByAddress(null, b, null);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"http://127.1/", "http://0x7f000001/", "http://2130706433/", "http://0177.0.0.1/",
      "http://017700000001/", "http://127.0.0.1./", "http://127.000.000.001/", "http://0x7f.1/", "http://1.2.3/",
      "http://10.0.0.1.example.9/"})
  void numeric_spellings_that_programs_read_differently_are_refused(String url) {
    assertThatThrownBy(() -> WebhookUrl.parse(url)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("numeric spelling");
  }

  @Test
  void the_refusal_of_a_numeric_spelling_says_which_address_it_means() {
    assertThatThrownBy(() -> WebhookUrl.parse("http://0x7f000001/")).hasMessageContaining("127.0.0.1");
    assertThatThrownBy(() -> WebhookUrl.parse("http://2130706433/")).hasMessageContaining("127.0.0.1");
    assertThatThrownBy(() -> WebhookUrl.parse("http://127.1/")).hasMessageContaining("127.0.0.1");
    assertThatThrownBy(() -> WebhookUrl.parse("http://0177.0.0.1/")).hasMessageContaining("127.0.0.1");
  }

  @ParameterizedTest
  @ValueSource(strings = {"ftp://example.com/x", "file:///etc/passwd", "gopher://example.com:70/_x",
      "javascript:alert(1)", "mailto:a@example.com", "//example.com/x", "example.com/x", "", " ",
      "http://user:pass@example.com/", "http://public@127.0.0.1/", "https://a@b@example.com/",
      "http://[example.com]/", "http://exa_mple.com/", "http://ex%41mple.com/", "http://example.com/#frag",
      "http://example.com:0/", "http://example.com:99999/", "http://[fe80::1%25eth0]/", "http:///nohost",
      "http://exa mple.com/", "http://example.com/\u0000"})
  void urls_that_are_not_plain_http_or_https_or_carry_credentials_are_refused(String url) {
    assertThatThrownBy(() -> WebhookUrl.parse(url)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void plain_urls_parse_into_what_a_delivery_needs() {
    WebhookUrl u = WebhookUrl.parse("HTTPS://Hooks.Example.COM/in/flowgate?tenant=a%20b");
    assertThat(u.https()).isTrue();
    assertThat(u.host()).isEqualTo("hooks.example.com");
    assertThat(u.port()).isEqualTo(443);
    assertThat(u.requestUri()).isEqualTo("/in/flowgate?tenant=a%20b");
    assertThat(u.literal()).isNull();
    assertThat(u.hostHeader()).isEqualTo("hooks.example.com");
    WebhookUrl v6 = WebhookUrl.parse("http://[2606:4700:4700::1111]:8080");
    assertThat(v6.literal()).isEqualTo(ip("2606:4700:4700::1111"));
    assertThat(v6.requestUri()).isEqualTo("/");
    assertThat(v6.hostHeader()).isEqualTo("[2606:4700:4700::1111]:8080");
    assertThat(WebhookUrl.parse("http://93.184.215.14/x").literal()).isEqualTo(ip("93.184.215.14"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "127.255.0.9", "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255",
      "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "169.254.0.1", "100.64.0.1",
      "100.127.255.255", "192.0.0.8", "192.0.2.1", "198.51.100.7", "203.0.113.9", "192.88.99.1", "198.18.0.1",
      "198.19.255.255", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
      "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "fec0::1", "ff02::1", "ff05::2",
      "::127.0.0.1", "::10.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1", "2002:7f00:1::1",
      "2002:a00:1::1", "2001::1", "2001:0:4136:e378::1", "2001:db8::1", "3fff::1", "100::1", "::ffff:0:0"})
  void non_public_addresses_are_refused(String literal) {
    assertThat(AddressClassifier.refusal(ip(literal))).as(literal).isNotNull();
  }

  @Test
  void ipv4_mapped_ipv6_forms_are_judged_by_the_ipv4_address_they_carry() {
    // ::ffff:127.0.0.1, ::ffff:10.0.0.1 and ::ffff:169.254.169.254 as a resolver may hand them over.
    assertThat(AddressClassifier.refusal(ip6(0, 0, 0, 0, 0, 0xffff, 0x7f00, 1))).contains("loopback");
    assertThat(AddressClassifier.refusal(ip6(0, 0, 0, 0, 0, 0xffff, 0x0a00, 1))).contains("private");
    assertThat(AddressClassifier.refusal(ip6(0, 0, 0, 0, 0, 0xffff, 0xa9fe, 0xa9fe))).contains("link-local");
    assertThat(AddressClassifier.refusal(ip6(0, 0, 0, 0, 0, 0xffff, 0x0808, 0x0808))).isNull();
    // Java itself reads the textual mapped form as IPv4.
    assertThat(AddressClassifier.refusal(ip("::ffff:127.0.0.1"))).contains("loopback");
  }

  @ParameterizedTest
  @ValueSource(strings = {"8.8.8.8", "1.1.1.1", "93.184.215.14", "172.32.0.1", "172.15.255.255", "100.128.0.1",
      "100.63.255.255", "192.169.0.1", "169.253.0.1", "223.255.255.254", "2606:4700:4700::1111",
      "2a00:1450:4001:80b::200e", "64:ff9b::808:808", "2002:808:808::1"})
  void public_addresses_pass(String literal) {
    assertThat(AddressClassifier.refusal(ip(literal))).as(literal).isNull();
  }

  private UrlGuard guard(boolean allowPrivate, Map<String, String[]> dns) {
    return new UrlGuard(vertx, allowPrivate, host -> {
      String[] answers = dns.get(host);
      if (answers == null) {
        throw new UnknownHostException(host);
      }
      InetAddress[] out = new InetAddress[answers.length];
      for (int i = 0; i < answers.length; i++) {
        out[i] = ip(answers[i]);
      }
      return out;
    });
  }

  private static GatewayException refusal(io.vertx.core.Future<?> checked) {
    Throwable t = Futures.awaitFailure(checked);
    assertThat(t).isInstanceOf(GatewayException.class);
    return (GatewayException) t;
  }

  @ParameterizedTest
  @ValueSource(strings = {"http://127.1/", "http://0x7f000001/", "http://2130706433/", "http://[::1]/",
      "http://[::ffff:127.0.0.1]/", "http://[0:0:0:0:0:ffff:7f00:1]/", "http://localhost/", "http://LOCALHOST:8080/",
      "http://api.localhost/", "http://localhost./", "http://127.0.0.1:9/", "http://169.254.169.254/latest/meta-data",
      "http://[fd00::1]/", "http://[fe80::1]/", "http://100.64.0.1/", "ftp://example.com/",
      "http://user:pw@example.com/"})
  void the_guard_refuses_each_spelling_of_a_private_target_with_invalid_webhook_url(String url) {
    GatewayException e = refusal(guard(false, Map.of("localhost", new String[] {"127.0.0.1"})).check(url));
    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_WEBHOOK_URL);
    assertThat(e.detail()).contains("notification.url");
  }

  @Test
  void every_address_a_name_resolves_to_is_checked() {
    UrlGuard g = guard(false, Map.of(
        "public.example", new String[] {"93.184.215.14", "2606:4700:4700::1111"},
        "mixed.example", new String[] {"93.184.215.14", "10.0.0.7"},
        "rebound.example", new String[] {"127.0.0.1"}));
    UrlGuard.Target ok = Futures.await(g.check("https://public.example/hook"));
    assertThat(ok.address()).isEqualTo(ip("93.184.215.14"));
    assertThat(refusal(g.check("https://mixed.example/hook")).detail()).contains("10.0.0.7").contains("private");
    // A name that resolved to a public address when configured and to loopback now (DNS rebinding).
    assertThat(refusal(g.check("https://rebound.example/hook")).detail()).contains("127.0.0.1").contains("loopback");
  }

  @Test
  void a_name_that_does_not_resolve_is_refused_with_a_hint() {
    GatewayException e = refusal(guard(false, Map.of()).check("https://nowhere.invalid/hook"));
    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_WEBHOOK_URL);
    assertThat(e.detail()).contains("does not resolve");
  }

  @Test
  void allow_private_networks_lets_loopback_through_but_not_bad_shapes() {
    UrlGuard g = guard(true, Map.of("localhost", new String[] {"127.0.0.1"}));
    assertThat(Futures.await(g.check("http://127.0.0.1:8080/x")).address()).isEqualTo(ip("127.0.0.1"));
    assertThat(Futures.await(g.check("http://localhost:8080/x")).address()).isEqualTo(ip("127.0.0.1"));
    assertThat(Futures.await(g.check("http://[::1]:8080/x")).address()).isEqualTo(ip("::1"));
    assertThat(refusal(g.check("http://0x7f000001/")).code()).isEqualTo(ErrorCode.INVALID_WEBHOOK_URL);
    assertThat(refusal(g.check("http://u:p@127.0.0.1/")).code()).isEqualTo(ErrorCode.INVALID_WEBHOOK_URL);
  }
}
