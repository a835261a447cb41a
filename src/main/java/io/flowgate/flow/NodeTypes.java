package io.flowgate.flow;

import io.flowgate.flow.nodes.BuiltinNodeTypes;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;

/**
 * The registry of node types: the built-ins ({@code api_input}, {@code transform}, {@code condition},
 * {@code http_request}, {@code delay}, {@code output}) plus every {@link NodeType} found with
 * {@link ServiceLoader}, bound to the {@link NodeServices} their nodes get. The {@code inference} type of DESIGN
 * §2.2 is one of the latter: it lives with the inference runtime, which it finds in {@link NodeServices#service}.
 * Built once per process; immutable and thread-safe.
 */
public final class NodeTypes {

  private final Map<String, NodeType> types;
  private final NodeServices services;

  private NodeTypes(Map<String, NodeType> types, NodeServices services) {
    this.types = types;
    this.services = services;
  }

  /**
   * Loads the built-ins and the SPI types visible to the thread's context class loader.
   *
   * @throws IllegalStateException when two types share a name (a custom type may not replace a built-in) or a
   *     provider cannot be loaded
   */
  public static NodeTypes load(NodeServices services) {
    Objects.requireNonNull(services, "services");
    Map<String, NodeType> types = new TreeMap<>();
    for (NodeType type : BuiltinNodeTypes.all()) {
      register(types, type);
    }
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    if (loader == null) {
      loader = NodeTypes.class.getClassLoader();
    }
    try {
      for (NodeType type : ServiceLoader.load(NodeType.class, loader)) {
        register(types, type);
      }
    } catch (ServiceConfigurationError e) {
      throw new IllegalStateException("cannot load a custom node type: " + e.getMessage(), e);
    }
    return new NodeTypes(Collections.unmodifiableMap(types), services);
  }

  /** The type registered under {@code type}, or null. */
  public NodeType get(String type) {
    return type == null ? null : types.get(type);
  }

  Set<String> names() {
    return types.keySet();
  }

  NodeServices services() {
    return services;
  }

  private static void register(Map<String, NodeType> types, NodeType type) {
    String name = type.type();
    if (name == null || name.isBlank()) {
      throw new IllegalStateException("node type " + type.getClass().getName() + " has no type name");
    }
    NodeType previous = types.putIfAbsent(name, type);
    if (previous != null) {
      throw new IllegalStateException("node type '" + name + "' is provided twice: by "
          + previous.getClass().getName() + " and " + type.getClass().getName());
    }
  }
}
