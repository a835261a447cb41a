package io.flowgate.flow.nodes;

import io.flowgate.flow.NodeType;
import java.util.List;

/** The node types every flowgate has (DESIGN §2.2); {@link io.flowgate.flow.NodeTypes} registers them. Pure. */
public final class BuiltinNodeTypes {

  private BuiltinNodeTypes() {
  }

  /** One instance of each built-in type. */
  public static List<NodeType> all() {
    return List.of(new ApiInputNodeType(), new TransformNodeType(), new ConditionNodeType(),
        new HttpRequestNodeType(), new DelayNodeType(), new OutputNodeType());
  }
}
