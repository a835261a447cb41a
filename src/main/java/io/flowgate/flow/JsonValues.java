package io.flowgate.flow;

import com.dashjoin.jsonata.Jsonata;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Conversions between the engine's plain JSON values (Map, List, String, Number, Boolean, null: what JSONata reads
 * and writes) and Vert.x JSON. Copies only what must change. Pure; usable on any thread.
 */
final class JsonValues {

  /** Integral doubles in this range print as integers (2^53: beyond it doubles no longer hold every integer). */
  private static final double MAX_EXACT = 9.007199254740992E15;

  private JsonValues() {
  }

  /**
   * {@code v} as a plain JSON value: JsonObject/JsonArray unwrapped, integral doubles as Long; returns {@code v}
   * itself (no copy) when nothing changes.
   *
   * @param lenient map values that are not JSON (e.g. a JSONata function) to null instead of failing
   * @throws IllegalArgumentException for a value that is not JSON, unless lenient
   */
  static Object plain(Object v, boolean lenient) {
    if (v == null || v instanceof String || v instanceof Boolean || v instanceof Integer || v instanceof Long) {
      return v;
    }
    if (v instanceof Double d) {
      return number(v, d);
    }
    if (v instanceof Map<?, ?> m) {
      return plainMap(m, lenient);
    }
    if (v instanceof List<?> l) {
      return plainList(l, lenient);
    }
    if (v instanceof JsonObject o) {
      return plainMap(o.getMap(), lenient);
    }
    if (v instanceof JsonArray a) {
      return plainList(a.getList(), lenient);
    }
    if (v instanceof Float f) {
      return number(f.doubleValue(), f.doubleValue());
    }
    if (v instanceof Number) {
      return v;
    }
    if (v == Jsonata.NULL_VALUE) {
      return null;
    }
    if (v instanceof CharSequence || v instanceof Enum<?> || v instanceof Instant) {
      return v.toString();
    }
    if (v instanceof byte[] bytes) {
      return Base64.getEncoder().encodeToString(bytes);
    }
    if (lenient) {
      return null;
    }
    throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
  }

  /** A plain value as Vert.x JSON: Map as JsonObject, List as JsonArray (wrapped, not copied), else itself. */
  @SuppressWarnings("unchecked")
  static Object toJson(Object plain) {
    if (plain instanceof Map<?, ?> m) {
      return new JsonObject((Map<String, Object>) m);
    }
    if (plain instanceof List<?> l) {
      return new JsonArray((List<Object>) l);
    }
    return plain;
  }

  /** {@code original} unchanged unless {@code d} is integral. */
  private static Object number(Object original, double d) {
    if (d == Math.rint(d) && Math.abs(d) < MAX_EXACT) {
      return (long) d;
    }
    return original;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> plainMap(Map<?, ?> m, boolean lenient) {
    Map<String, Object> copy = null;
    int done = 0;
    for (Map.Entry<?, ?> e : m.entrySet()) {
      Object key = e.getKey();
      Object value = e.getValue();
      Object converted = plain(value, lenient);
      if (copy == null && (converted != value || !(key instanceof String))) {
        copy = new LinkedHashMap<>(Math.max(16, m.size() * 4 / 3 + 1));
        Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
        for (int i = 0; i < done; i++) {
          Map.Entry<?, ?> before = it.next();
          copy.put(String.valueOf(before.getKey()), before.getValue());
        }
      }
      if (copy != null) {
        copy.put(String.valueOf(key), converted);
      }
      done++;
    }
    return copy != null ? copy : (Map<String, Object>) m;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> plainList(List<?> l, boolean lenient) {
    List<Object> copy = null;
    int size = l.size();
    for (int i = 0; i < size; i++) {
      Object value = l.get(i);
      Object converted = plain(value, lenient);
      if (copy == null && converted != value) {
        copy = new ArrayList<>(size);
        for (int j = 0; j < i; j++) {
          copy.add(l.get(j));
        }
      }
      if (copy != null) {
        copy.add(converted);
      }
    }
    return copy != null ? copy : (List<Object>) l;
  }
}
