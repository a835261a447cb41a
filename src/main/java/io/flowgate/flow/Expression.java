package io.flowgate.flow;

import com.dashjoin.jsonata.Functions;
import com.dashjoin.jsonata.JException;
import com.dashjoin.jsonata.Jsonata;
import java.util.Objects;

/**
 * A JSONata expression compiled once per flow version and evaluated per node execution with {@code $} the node's
 * input, {@code $input} the run's {@code input_data} and {@code $nodes} the outputs so far, within the
 * {@link FlowLimits} time and recursion bounds. For node types, built-in or custom, that take expressions.
 * Immutable and thread-safe; evaluate on the thread that runs the node.
 */
public final class Expression {

  /*
   * The library's $now() and $millis() read the timestamp of the Jsonata instance last *compiled* on the calling
   * thread, which on a shared event loop is stale or another flow's. These replacements read the time each
   * evaluation starts (JSONata: every call within one evaluation returns the same value).
   */
  private static final ThreadLocal<long[]> EVALUATION_START = ThreadLocal.withInitial(() -> new long[1]);
  private static final Jsonata.JFunction MILLIS = Jsonata.function("millis",
      (Jsonata.Fn0<Long>) () -> EVALUATION_START.get()[0], "<:n>");
  private static final Jsonata.JFunction NOW = Jsonata.function("now",
      (Jsonata.Fn2<String, String, String>) (picture, timezone) ->
          Functions.dateTimeFromMillis(EVALUATION_START.get()[0], picture, timezone), "<s?s?:s>");

  private final Jsonata jsonata;
  private final String source;
  private final long timeoutMs;
  private final int maxDepth;

  private Expression(Jsonata jsonata, String source, FlowLimits limits) {
    this.jsonata = jsonata;
    this.source = source;
    this.timeoutMs = limits.expressionTimeout().toMillis();
    this.maxDepth = limits.expressionMaxDepth();
  }

  /**
   * Compiles {@code source}.
   *
   * @param nodeId the node the expression belongs to (named in the error)
   * @param field the config field it comes from, named in the error; null for the node's main expression
   * @throws FlowValidationException {@code node 'shape': invalid JSONata expression: ...} when it does not parse
   */
  public static Expression compile(String nodeId, String field, String source, FlowLimits limits)
      throws FlowValidationException {
    Objects.requireNonNull(limits, "limits");
    String where = field == null ? "" : " in " + field;
    if (source == null || source.isBlank()) {
      throw new FlowValidationException(nodeId, "node '" + nodeId + "': empty JSONata expression" + where);
    }
    Jsonata jsonata;
    try {
      jsonata = Jsonata.jsonata(source);
    } catch (JException | IllegalArgumentException | IllegalStateException e) {
      throw new FlowValidationException(nodeId,
          "node '" + nodeId + "': invalid JSONata expression" + where + ": " + e.getMessage());
    }
    // Inputs are plain JSON already (the executor normalises every node output); skip the per-call deep check.
    jsonata.setValidateInput(false);
    return new Expression(jsonata, source, limits);
  }

  /** The expression's source text. */
  public String source() {
    return source;
  }

  /**
   * Evaluates with {@code $} = {@code ctx.input()}.
   *
   * @return a plain JSON value (Map, List, String, Number with integral values as Long, Boolean) or null when the
   *     result is undefined
   * @throws RuntimeException whose message says what went wrong ({@code $error("boom")} gives "boom"; a runaway
   *     expression gives a message naming the bound it hit)
   */
  public Object evaluate(NodeContext ctx) {
    return evaluate(ctx.input(), ctx);
  }

  /** Evaluates with {@code $} = {@code document} instead of the node's input. */
  public Object evaluate(Object document, NodeContext ctx) {
    EVALUATION_START.get()[0] = System.currentTimeMillis();
    Jsonata.Frame frame = jsonata.createFrame();
    frame.bind("input", ctx.inputDataPlain());
    frame.bind("nodes", ctx.nodesRaw());
    frame.bind("millis", MILLIS);
    frame.bind("now", NOW);
    frame.setRuntimeBounds(timeoutMs, maxDepth);
    Object result;
    try {
      result = jsonata.evaluate(document, frame);
    } catch (JException e) {
      throw new ExpressionFailure(message(e));
    } catch (StackOverflowError e) {
      throw new ExpressionFailure("expression recursion too deep (the thread's stack overflowed before depth "
          + maxDepth + "); rewrite it as tail-recursive");
    } catch (RuntimeException e) {
      throw new ExpressionFailure("expression failed: " + e);
    }
    return JsonValues.plain(result, true);
  }

  private String message(JException e) {
    String error = e.getError();
    if (error != null && error.startsWith("Expression evaluation timeout")) {
      return "expression evaluation timed out after " + timeoutMs + " ms (infinite loop?)";
    }
    if (error != null && error.startsWith("Stack overflow error")) {
      return "expression exceeded the maximum recursion depth of " + maxDepth
          + " (non-terminating recursive function?)";
    }
    String message = e.getMessage();
    return message == null || message.isBlank() ? String.valueOf(error) : message;
  }

  @Override
  public String toString() {
    return source;
  }
}
