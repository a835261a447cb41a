package io.flowgate.control;

import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.Test;

class ControlRoutingProbeTest extends ControlApiTestBase {
  @Test
  void probe() {
    for (String[] c : new String[][] {{"GET", "/nothing"}, {"PATCH", "/flows"}, {"GET", "/flows/"},
        {"POST", "/deployments/x/unknown"}}) {
      Reply r = admin(HttpMethod.valueOf(c[0]), c[1]);
      System.out.println("PROBE " + c[0] + " " + c[1] + " -> " + r.status() + " " + r.headers().get("Content-Type")
          + " " + r.body());
    }
    Reply r = call(HttpMethod.GET, "/nothing", null);
    System.out.println("PROBE unauth " + r.status() + " " + r.body());
  }
}
