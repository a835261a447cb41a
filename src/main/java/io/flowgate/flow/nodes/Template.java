package io.flowgate.flow.nodes;

import io.flowgate.flow.Expression;
import io.flowgate.flow.FlowLimits;
import io.flowgate.flow.FlowValidationException;
import io.flowgate.flow.NodeContext;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A config value in which every string starting with {@code =} is a JSONata expression (compiled once) and
 * everything else is literal; {@code ==} at the start escapes a literal {@code =}. Immutable and thread-safe.
 */
abstract sealed class Template {

  /** Compiles {@code value}; {@code field} names where it sits (e.g. {@code body.user.name}) in errors. */
  static Template compile(String nodeId, String field, Object value, FlowLimits limits)
      throws FlowValidationException {
    if (value instanceof String s) {
      if (s.startsWith("==")) {
        return new Literal(s.substring(1));
      }
      if (s.startsWith("=")) {
        return new Expr(Expression.compile(nodeId, field, s.substring(1), limits));
      }
      return new Literal(s);
    }
    if (value instanceof JsonObject o) {
      Map<String, Template> fields = new LinkedHashMap<>();
      boolean literal = true;
      for (Map.Entry<String, Object> e : o) {
        Template t = compile(nodeId, field + "." + e.getKey(), e.getValue(), limits);
        fields.put(e.getKey(), t);
        literal &= t instanceof Literal;
      }
      return literal ? new Literal(plainCopy(o)) : new Obj(fields);
    }
    if (value instanceof JsonArray a) {
      List<Template> items = new ArrayList<>(a.size());
      boolean literal = true;
      for (int i = 0; i < a.size(); i++) {
        Template t = compile(nodeId, field + "[" + i + "]", a.getValue(i), limits);
        items.add(t);
        literal &= t instanceof Literal;
      }
      return literal ? new Literal(plainCopy(a)) : new Arr(items);
    }
    return new Literal(value);
  }

  /** The value for one execution: a plain JSON value (Map, List, String, Number, Boolean or null). */
  abstract Object render(NodeContext ctx);

  private static Object plainCopy(Object v) {
    if (v instanceof JsonObject o) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (Map.Entry<String, Object> e : o) {
        m.put(e.getKey(), plainCopy(e.getValue()));
      }
      return m;
    }
    if (v instanceof JsonArray a) {
      List<Object> l = new ArrayList<>(a.size());
      for (Object item : a) {
        l.add(plainCopy(item));
      }
      return l;
    }
    return v;
  }

  static final class Literal extends Template {
    private final Object value;

    Literal(Object value) {
      this.value = value;
    }

    @Override
    Object render(NodeContext ctx) {
      return value;
    }
  }

  static final class Expr extends Template {
    private final Expression expression;

    Expr(Expression expression) {
      this.expression = expression;
    }

    @Override
    Object render(NodeContext ctx) {
      return expression.evaluate(ctx);
    }
  }

  static final class Obj extends Template {
    private final Map<String, Template> fields;

    Obj(Map<String, Template> fields) {
      this.fields = fields;
    }

    @Override
    Object render(NodeContext ctx) {
      Map<String, Object> out = new LinkedHashMap<>(fields.size() * 2);
      for (Map.Entry<String, Template> e : fields.entrySet()) {
        out.put(e.getKey(), e.getValue().render(ctx));
      }
      return out;
    }
  }

  static final class Arr extends Template {
    private final List<Template> items;

    Arr(List<Template> items) {
      this.items = items;
    }

    @Override
    Object render(NodeContext ctx) {
      List<Object> out = new ArrayList<>(items.size());
      for (Template t : items) {
        out.add(t.render(ctx));
      }
      return out;
    }
  }
}
