package io.flowgate.flow;

/**
 * What a branching node (the {@code condition} type) returns from {@link Node#execute}: the outcome that selects
 * the outgoing edges whose {@code when} equals {@code value}, and the node's output. A value; usable on any thread.
 */
public record ConditionResult(boolean value, Object output) {}
