package io.flowgate.flow;

import io.vertx.core.json.JsonObject;

/**
 * SPI of a node type: turns a node's config into a compiled {@link Node} once per flow version. Custom types are
 * found with {@link java.util.ServiceLoader} (list the class in
 * {@code META-INF/services/io.flowgate.flow.NodeType}; it needs a public no-argument constructor). Called on any
 * thread, at compile time; implementations must be thread-safe.
 */
public interface NodeType {

  /** The type name used in flow definitions, e.g. {@code "transform"}. */
  String type();

  /**
   * Validates {@code config} and compiles the node.
   *
   * @throws FlowValidationException with a sentence naming the node, e.g. {@code node 'x': "ms" must be a
   *     non-negative integer}
   */
  Node create(String nodeId, JsonObject config, NodeServices services) throws FlowValidationException;
}
