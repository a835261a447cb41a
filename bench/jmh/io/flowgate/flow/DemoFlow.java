package io.flowgate.flow;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The demo flow of {@code conf/declarations/demo.yaml} (api_input → transform → output), read from that file so the
 * benchmarks measure what the sync scenario of bench/run.sh calls. The repository root is the working directory, or
 * {@code -Dflowgate.root=DIR}. Any thread.
 */
public final class DemoFlow {
  /** The body's {@code input_data} of the sync scenario and the README's demo call. */
  public static final JsonObject INPUT = new JsonObject().put("name", "Ada");

  private DemoFlow() {
  }

  /** The repository root (where conf/ is). */
  public static Path root() {
    Path root = Path.of(System.getProperty("flowgate.root", ".")).toAbsolutePath().normalize();
    if (!Files.isDirectory(root.resolve("conf/declarations"))) {
      throw new IllegalStateException("no conf/declarations under " + root
          + ": run the benchmarks from the repository root or pass -Dflowgate.root=DIR");
    }
    return root;
  }

  /** The first flow of demo.yaml, as the control plane's JSON. */
  @SuppressWarnings("unchecked")
  public static FlowDefinition definition() throws FlowValidationException {
    try {
      Map<String, Object> yaml = new ObjectMapper(new YAMLFactory())
          .readValue(root().resolve("conf/declarations/demo.yaml").toFile(), Map.class);
      Map<String, Object> flow = (Map<String, Object>) ((java.util.List<Object>) yaml.get("flows")).get(0);
      return FlowDefinition.fromJson(new JsonObject(flow));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The demo transform node's JSONata expression. */
  public static String transformExpression() throws FlowValidationException {
    return definition().nodes().stream().filter(n -> n.type().equals("transform")).findFirst()
        .orElseThrow(() -> new IllegalStateException("demo.yaml has no transform node"))
        .config().getString("expression");
  }
}
