package io.flowgate.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonValuesTest {

  @Test
  void renders_integral_doubles_as_integers() {
    assertThat(JsonValues.plain(2.0, false)).isEqualTo(2L);
    assertThat(JsonValues.plain(-0.0, false)).isEqualTo(0L);
    assertThat(JsonValues.plain(2.5, false)).isEqualTo(2.5);
    assertThat(JsonValues.plain(1e20, false)).isEqualTo(1e20);
    Object json = JsonValues.toJson(JsonValues.plain(Map.of("n", List.of(1.0, 2.5, 3.0)), false));
    assertThat(((JsonObject) json).encode()).isEqualTo("{\"n\":[1,2.5,3]}");
  }

  @Test
  void returns_plain_values_without_copying() {
    Map<String, Object> inner = new LinkedHashMap<>();
    inner.put("a", 1);
    inner.put("b", List.of("x", 2.5));
    Map<String, Object> outer = new LinkedHashMap<>();
    outer.put("inner", inner);
    outer.put("s", "text");
    assertThat(JsonValues.plain(outer, false)).isSameAs(outer);
  }

  @Test
  void copies_only_what_changes_and_keeps_key_order() {
    Map<String, Object> untouched = new LinkedHashMap<>(Map.of("k", "v"));
    Map<String, Object> outer = new LinkedHashMap<>();
    outer.put("first", untouched);
    outer.put("second", 4.0);
    outer.put("third", new JsonObject().put("x", new JsonArray().add(1)));
    @SuppressWarnings("unchecked")
    Map<String, Object> plain = (Map<String, Object>) JsonValues.plain(outer, false);
    assertThat(plain).isNotSameAs(outer).containsOnlyKeys("first", "second", "third");
    assertThat(new ArrayList<>(plain.keySet())).containsExactly("first", "second", "third");
    assertThat(plain.get("first")).isSameAs(untouched);
    assertThat(plain.get("second")).isEqualTo(4L);
    assertThat(plain.get("third")).isEqualTo(Map.of("x", List.of(1)));
    assertThat(outer.get("second")).isEqualTo(4.0);
  }

  @Test
  void refuses_non_json_values_unless_lenient() {
    assertThatThrownBy(() -> JsonValues.plain(new Object(), false)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("not a JSON value");
    assertThat(JsonValues.plain(List.of(new Object()), true)).isEqualTo(java.util.Collections.singletonList(null));
  }
}
