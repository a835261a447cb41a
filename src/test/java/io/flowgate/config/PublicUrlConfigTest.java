package io.flowgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PublicUrlConfigTest {

  @Test
  void unset_by_default_so_that_each_request_names_it() throws Exception {
    assertThat(ConfigLoader.load(null, Map.of()).http().publicUrl()).isEmpty();
  }

  @Test
  void an_absolute_http_url_is_taken_without_its_trailing_slash() throws Exception {
    assertThat(ConfigLoader.load(null, Map.of("FLOWGATE_HTTP_PUBLIC_URL", "https://api.example.com/flowgate/"))
        .http().publicUrl()).isEqualTo("https://api.example.com/flowgate");
  }

  @Test
  void anything_else_is_refused_at_start() {
    for (String bad : new String[] {"api.example.com", "ftp://api.example.com", "https://api.example.com/?a=1",
        "https://user:pw@api.example.com", "https://"}) {
      assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("FLOWGATE_HTTP_PUBLIC_URL", bad)))
          .as(bad).isInstanceOf(ConfigException.class).hasMessageContaining("FLOWGATE_HTTP_PUBLIC_URL");
    }
  }
}
