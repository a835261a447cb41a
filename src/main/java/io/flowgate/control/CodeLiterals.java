package io.flowgate.control;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Writes JSON values as source literals for generated example code: JSON (for cURL bodies), Python (dicts with
 * {@code True}/{@code False}/{@code None}) and JavaScript (object literals, identifier keys unquoted), indented the way
 * the aicuflow snippets are. Strings are always JSON-escaped, which both Python and JavaScript read back unchanged,
 * so no value can end a literal early. Pure; any thread.
 */
final class CodeLiterals {
  /** The three targets. */
  enum Style { JSON, PYTHON, JAVASCRIPT }

  private static final Pattern JS_IDENTIFIER = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*");
  /** A literal short enough to stay on one line, as {@code {'param1': 'value1'}} does in aicuflow's Python. */
  private static final int INLINE_MAX = 60;

  private CodeLiterals() {
  }

  /**
   * {@code value} as a literal. Objects and arrays span lines, each level indented by {@code indent} spaces more
   * than the line they start on ({@code baseIndent}), with trailing commas in Python and JavaScript; with
   * {@code inlineIfShort}, a literal of at most 60 characters stays on one line.
   */
  static String render(Object value, Style style, int indent, int baseIndent, boolean inlineIfShort) {
    if (inlineIfShort) {
      String inline = inline(value, style);
      if (inline.length() <= INLINE_MAX) {
        return inline;
      }
    }
    StringBuilder out = new StringBuilder();
    write(out, value, style, indent, baseIndent);
    return out.toString();
  }

  /** {@code value} on one line. */
  static String inline(Object value, Style style) {
    StringBuilder out = new StringBuilder();
    writeInline(out, value, style);
    return out.toString();
  }

  private static void write(StringBuilder out, Object value, Style style, int indent, int level) {
    Object v = normalize(value);
    if (v instanceof Map<?, ?> map && !map.isEmpty()) {
      out.append("{\n");
      Iterator<? extends Map.Entry<?, ?>> entries = map.entrySet().iterator();
      while (entries.hasNext()) {
        Map.Entry<?, ?> e = entries.next();
        out.append(" ".repeat(level + indent)).append(key(String.valueOf(e.getKey()), style)).append(": ");
        write(out, e.getValue(), style, indent, level + indent);
        if (entries.hasNext() || style != Style.JSON) {
          out.append(',');
        }
        out.append('\n');
      }
      out.append(" ".repeat(level)).append('}');
    } else if (v instanceof List<?> list && !list.isEmpty() && !scalars(list)) {
      out.append("[\n");
      for (int i = 0; i < list.size(); i++) {
        out.append(" ".repeat(level + indent));
        write(out, list.get(i), style, indent, level + indent);
        if (i < list.size() - 1 || style != Style.JSON) {
          out.append(',');
        }
        out.append('\n');
      }
      out.append(" ".repeat(level)).append(']');
    } else {
      writeInline(out, v, style);
    }
  }

  private static void writeInline(StringBuilder out, Object value, Style style) {
    Object v = normalize(value);
    if (v instanceof Map<?, ?> map) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        out.append(first ? "" : ", ").append(key(String.valueOf(e.getKey()), style)).append(": ");
        writeInline(out, e.getValue(), style);
        first = false;
      }
      out.append('}');
    } else if (v instanceof List<?> list) {
      out.append('[');
      for (int i = 0; i < list.size(); i++) {
        out.append(i == 0 ? "" : ", ");
        writeInline(out, list.get(i), style);
      }
      out.append(']');
    } else if (v == null) {
      out.append(style == Style.PYTHON ? "None" : "null");
    } else if (v instanceof Boolean b) {
      out.append(style == Style.PYTHON ? (b ? "True" : "False") : b.toString());
    } else if (v instanceof String s) {
      out.append(string(s, style));
    } else {
      // Numbers as JSON writes them: valid Python and JavaScript number literals too.
      out.append(Json.encode(v));
    }
  }

  private static Object normalize(Object value) {
    if (value instanceof JsonObject o) {
      return o.getMap();
    }
    if (value instanceof JsonArray a) {
      return a.getList();
    }
    return value;
  }

  private static boolean scalars(List<?> list) {
    for (Object item : list) {
      Object v = normalize(item);
      if (v instanceof Map<?, ?> || v instanceof List<?>) {
        return false;
      }
    }
    return true;
  }

  private static String key(String key, Style style) {
    return style == Style.JAVASCRIPT && JS_IDENTIFIER.matcher(key).matches() ? key : string(key, style);
  }

  /** A double-quoted, JSON-escaped string; in JavaScript also the two line separators older engines refuse. */
  static String string(String s, Style style) {
    String json = Json.encode(s);
    if (style == Style.JAVASCRIPT) {
      json = json.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029");
    }
    return json;
  }
}
