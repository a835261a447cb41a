package io.flowgate.control;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PublicUrlTest {
  private static String derive(String configured, String forwarded, String proto, String host, String port,
      String hostHeader) {
    return PublicUrl.derive(configured, forwarded, proto, host, port, hostHeader, "http", "10.1.2.3:8080");
  }

  @Test
  void the_configured_public_url_wins() {
    assertThat(derive("https://api.example.com/flowgate", "proto=http;host=a.example", "http", "b.example", null,
        "c.example")).isEqualTo("https://api.example.com/flowgate");
  }

  @Test
  void forwarded_then_x_forwarded_then_host_then_the_local_address() {
    assertThat(derive("", "for=1.2.3.4;proto=https;host=\"gw.example.org\", proto=http;host=inner", "http",
        "x.example", null, "h.example:8080")).isEqualTo("https://gw.example.org");
    assertThat(derive("", null, "https, http", "x.example, y.example", "8443", "h.example:8080"))
        .isEqualTo("https://x.example:8443");
    assertThat(derive("", null, "https", "x.example:443", null, "h.example")).isEqualTo("https://x.example");
    assertThat(derive("", null, null, null, null, "h.example:8080")).isEqualTo("http://h.example:8080");
    assertThat(derive("", null, null, null, null, "[::1]:8080")).isEqualTo("http://[::1]:8080");
    assertThat(derive("", null, null, null, null, null)).isEqualTo("http://10.1.2.3:8080");
    assertThat(PublicUrl.derive("", null, null, null, null, null, "http", "0:0:0:0:0:0:0:1:8080"))
        .isEqualTo("http://[0:0:0:0:0:0:0:1]:8080");
  }

  @Test
  void values_that_are_not_a_scheme_or_a_host_are_ignored() {
    assertThat(derive("", "proto=javascript;host=\"a\\\"b\"", "ftp", "evil.example\"; rm -rf /", "80x",
        "h.exa\"mple")).isEqualTo("http://10.1.2.3:8080");
    assertThat(derive("", null, null, "a b.example", null, "ok.example")).isEqualTo("http://ok.example");
  }
}
