package io.flowgate.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.FakeInferenceServer;
import io.flowgate.testsupport.FakeInferenceServer.Mode;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Fast Mode's lane past the router ({@link FastLane}) through a whole gateway on real Redis and PostgreSQL: a request
 * the lane answers is indistinguishable from the router's answer to the same request; everything the lane does not
 * take — refusals, bad bodies, other routes, chunked bodies, {@code Connection: close} — gets the router's answer;
 * pipelined requests that mix both are answered in order on one connection; lane calls count in usage; and a
 * shutdown waits for the lane's requests in flight. Raw sockets, so that keep-alive and pipelining are exactly what
 * the test writes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FastLaneTest {
  private static final String ADMIN = GatewayUnderTest.ADMIN_TOKEN;
  private static final String INPUT = "{\"input_data\": {\"features\": [5.1, 3.5, 1.4, 0.2]}}";

  private GatewayUnderTest gateway;
  private TestHttp http;
  private FakeInferenceServer fake;
  private FakeInferenceServer failing;

  @BeforeAll
  void start() {
    gateway = GatewayUnderTest.start(GatewayUnderTest.Backing.fresh(getClass()), 2,
        Map.of("FLOWGATE_INFERENCE_HEALTH_INTERVAL_MS", "100"));
    http = gateway.http();
    fake = FakeInferenceServer.start(gateway.vertx());
    failing = FakeInferenceServer.start(gateway.vertx()).mode(Mode.ERROR_500);
  }

  @AfterAll
  void stop() {
    if (fake != null) {
      fake.close();
      failing.close();
    }
    if (gateway != null) {
      gateway.close();
    }
  }

  private record Fast(String id, String key, String keyId, String serverId) {}

  private Fast fastDeployment(String url) {
    Reply s = http.admin("POST", "/api/v1/inference-servers", new JsonObject().put("name", "lane-"
        + UUID.randomUUID().toString().substring(0, 6)).put("protocol", "passthrough").put("predict_path", "/predict")
        .put("replicas", new JsonArray().add(url)), ADMIN);
    assertThat(s.status()).as(s.toString()).isEqualTo(201);
    Reply d = http.admin("POST", "/api/v1/deployments", new JsonObject().put("execution_mode", "fast")
        .put("name", "lane-" + UUID.randomUUID().toString().substring(0, 6))
        .put("inference_server_id", s.data().getString("id")), ADMIN);
    assertThat(d.status()).as(d.toString()).isEqualTo(201);
    Fast fast = new Fast(d.data().getString("id"), d.data().getString("api_key"), d.data().getString("api_key_id"),
        s.data().getString("id"));
    // The first call fills the key and deployment caches (the lane serves only from memory); wait for readiness.
    Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> http.trigger(fast.id(), fast.key(), INPUT).status()
        == (url.equals(fake.url()) ? 200 : 502));
    return fast;
  }

  private long laneAnswered() {
    return gateway.gateway().fastLane().answered();
  }

  private static String post(String path, String key, String body, String requestId, String... extra) {
    StringBuilder s = new StringBuilder("POST ").append(path).append(" HTTP/1.1\r\nHost: localhost\r\n")
        .append("Content-Type: application/json\r\n");
    if (key != null) {
      s.append("X-API-Key: ").append(key).append("\r\n");
    }
    if (requestId != null) {
      s.append("X-Request-Id: ").append(requestId).append("\r\n");
    }
    for (String h : extra) {
      s.append(h).append("\r\n");
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    boolean chunked = List.of(extra).contains("Transfer-Encoding: chunked");
    if (chunked) {
      s.append("\r\n").append(Integer.toHexString(bytes.length)).append("\r\n").append(body).append("\r\n0\r\n\r\n");
    } else {
      s.append("Content-Length: ").append(bytes.length).append("\r\n\r\n").append(body);
    }
    return s.toString();
  }

  private static String trigger(Fast f) {
    return "/node/deployment-trigger/" + f.id() + "/";
  }

  /** One HTTP/1.1 response read off a socket. */
  private record Raw(int status, Map<String, String> headers, List<String> headerNames, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  private static Raw read(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    List<String> lines = new ArrayList<>();
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed after " + lines);
      }
      if (b == '\n') {
        String l = line.toString(StandardCharsets.US_ASCII).replace("\r", "");
        line.reset();
        if (l.isEmpty()) {
          break;
        }
        lines.add(l);
      } else {
        line.write(b);
      }
    }
    int status = Integer.parseInt(lines.get(0).split(" ")[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    List<String> names = new ArrayList<>();
    for (String h : lines.subList(1, lines.size())) {
      int colon = h.indexOf(':');
      names.add(h.substring(0, colon).toLowerCase(Locale.ROOT));
      headers.put(h.substring(0, colon).toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
    }
    int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
    byte[] body = in.readNBytes(length);
    return new Raw(status, headers, names, new String(body, StandardCharsets.UTF_8));
  }

  private Socket connect() throws IOException {
    Socket socket = new Socket("127.0.0.1", gateway.port());
    socket.setSoTimeout(15_000);
    return socket;
  }

  @Test
  void the_lane_answers_exactly_as_the_router_does() throws Exception {
    Fast f = fastDeployment(fake.url());
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      long before = laneAnswered();
      out.write(post(trigger(f), f.key(), INPUT, "lane-1").getBytes(StandardCharsets.UTF_8));
      Raw lane = read(socket.getInputStream());
      assertThat(laneAnswered()).isEqualTo(before + 1);
      // The same request with Connection: close is the router's (the lane takes only keep-alive requests).
      out.write(post(trigger(f), f.key(), INPUT, "router-1", "Connection: close").getBytes(StandardCharsets.UTF_8));
      Raw router = read(socket.getInputStream());
      assertThat(laneAnswered()).isEqualTo(before + 1);

      assertThat(lane.status()).isEqualTo(200);
      assertThat(router.status()).isEqualTo(200);
      assertThat(lane.headerNames()).containsExactly("content-type", "cache-control", "x-request-id",
          "content-length");
      assertThat(router.headerNames()).contains("content-type", "cache-control", "x-request-id", "content-length");
      assertThat(lane.headers().get("content-type")).isEqualTo(router.headers().get("content-type"));
      assertThat(lane.headers().get("cache-control")).isEqualTo(router.headers().get("cache-control"));
      assertThat(lane.headers().get("x-request-id")).isEqualTo("lane-1");
      assertThat(router.headers().get("x-request-id")).isEqualTo("router-1");
      JsonObject a = lane.json();
      JsonObject b = router.json();
      assertThat(a.getJsonObject("data").getDouble("duration_seconds")).isPositive();
      a.getJsonObject("data").remove("duration_seconds");
      b.getJsonObject("data").remove("duration_seconds");
      assertThat(a).isEqualTo(b);
      assertThat(a.getJsonObject("data").getJsonObject("output_data").getJsonObject("received"))
          .isEqualTo(new JsonObject(INPUT).getJsonObject("input_data"));
    }
  }

  @Test
  void pipelined_requests_of_both_paths_are_answered_in_order_on_one_connection() throws Exception {
    Fast f = fastDeployment(fake.url());
    String id = f.id();
    String[] requests = {
        post(trigger(f), f.key(), INPUT, "p1"),
        "GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: p2\r\n\r\n",
        post(trigger(f), f.key(), "{\"input_data\": {\"n\": 3}}", "p3"),
        post(trigger(f), f.key(), "{\"input_data\": [1, 2]}", "p4"),
        post(trigger(f), "sk-wrong-key-for-this-test-0000000000000", INPUT, "p5"),
        post("/node/deployment-trigger/" + id, f.key(), "{\"input_data\": {\"n\": 6}}", "p6"),
        post(trigger(f), f.key(), "{not json", "p7"),
        post(trigger(f), f.key(), "{\"input_data\": {\"n\": 8}}", "p8", "Transfer-Encoding: chunked"),
        post(trigger(f), f.key(), "{\"input_data\": {\"n\": 9}}", "p9"),
    };
    int[] expected = {200, 200, 200, 400, 401, 200, 400, 200, 200};
    for (int round = 0; round < 3; round++) {
      try (Socket socket = connect()) {
        long before = laneAnswered();
        // All at once: the lane holds what arrives behind its own request and replays it in order.
        socket.getOutputStream().write(String.join("", requests).getBytes(StandardCharsets.UTF_8));
        List<Raw> answers = new ArrayList<>();
        for (int i = 0; i < requests.length; i++) {
          answers.add(read(socket.getInputStream()));
        }
        for (int i = 0; i < requests.length; i++) {
          Raw r = answers.get(i);
          assertThat(r.headers().get("x-request-id")).as("answer %d", i + 1).isEqualTo("p" + (i + 1));
          assertThat(r.status()).as("answer %d: %s", i + 1, r.body()).isEqualTo(expected[i]);
        }
        assertThat(answers.get(2).json().getJsonObject("data").getJsonObject("output_data")
            .getJsonObject("received")).isEqualTo(new JsonObject().put("n", 3));
        assertThat(answers.get(3).json().getString("code")).isEqualTo("invalid_input");
        assertThat(answers.get(4).json().getString("code")).isEqualTo("invalid_api_key");
        assertThat(answers.get(6).json().getString("code")).isEqualTo("invalid_json");
        assertThat(answers.get(7).json().getJsonObject("data").getJsonObject("output_data")
            .getJsonObject("received")).isEqualTo(new JsonObject().put("n", 8));
        // p1 is the lane's (the connection is fresh). p3, p6 and p9 are too unless they arrive while the router still
        // answers the request before them (then the router takes them, to keep the order); p4 and p7 went to the lane
        // and were handed to the router with their bodies.
        assertThat(laneAnswered() - before).isBetween(1L, 4L);
      }
    }
  }

  @Test
  void upstream_failures_through_the_lane_are_the_same_problems() throws Exception {
    Fast f = fastDeployment(failing.url());
    try (Socket socket = connect()) {
      long before = laneAnswered();
      socket.getOutputStream().write(post(trigger(f), f.key(), INPUT, "fail-1").getBytes(StandardCharsets.UTF_8));
      Raw r = read(socket.getInputStream());
      assertThat(laneAnswered()).isEqualTo(before + 1);
      assertThat(r.status()).isEqualTo(502);
      assertThat(r.headers().get("content-type")).isEqualTo("application/problem+json");
      assertThat(r.headers().get("cache-control")).isEqualTo("no-store");
      JsonObject problem = r.json();
      assertThat(problem.getString("code")).isEqualTo("inference_error");
      assertThat(problem.getString("instance")).isEqualTo("fail-1");
      assertThat(problem.getString("message")).contains("HTTP 500");
      socket.getOutputStream().write(post(trigger(f), f.key(), INPUT, "fail-r", "Connection: close")
          .getBytes(StandardCharsets.UTF_8));
      Raw router = read(socket.getInputStream());
      assertThat(laneAnswered()).isEqualTo(before + 1);
      assertThat(router.status()).isEqualTo(502);
      JsonObject viaRouter = router.json();
      viaRouter.remove("instance");
      problem.remove("instance");
      assertThat(problem).isEqualTo(viaRouter);
    }
    // A stopped server: 503 with Retry-After from the lane too.
    Reply stopped = http.admin("POST", "/api/v1/inference-servers/" + f.serverId() + "/stop", null, ADMIN);
    assertThat(stopped.status()).as(stopped.toString()).isLessThan(300);
    try (Socket socket = connect()) {
      socket.getOutputStream().write(post(trigger(f), f.key(), INPUT, "fail-2").getBytes(StandardCharsets.UTF_8));
      Raw r = read(socket.getInputStream());
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.json().getString("code")).isEqualTo("inference_unavailable");
      assertThat(Integer.parseInt(r.headers().get("retry-after"))).isPositive();
    }
  }

  @Test
  void a_deactivated_key_is_refused_by_the_router_once_the_lane_no_longer_takes_it() throws Exception {
    Fast f = fastDeployment(fake.url());
    try (Socket socket = connect()) {
      long before = laneAnswered();
      socket.getOutputStream().write(post(trigger(f), f.key(), INPUT, null).getBytes(StandardCharsets.UTF_8));
      assertThat(read(socket.getInputStream()).status()).isEqualTo(200);
      assertThat(laneAnswered()).isEqualTo(before + 1);
    }
    Reply off = http.admin("POST", "/api/v1/api-keys/" + f.keyId() + "/deactivate", null, ADMIN);
    assertThat(off.status()).as(off.toString()).isEqualTo(200);
    Awaitility.await().atMost(2, TimeUnit.SECONDS).untilAsserted(() -> {
      try (Socket socket = connect()) {
        socket.getOutputStream().write(post(trigger(f), f.key(), INPUT, null).getBytes(StandardCharsets.UTF_8));
        Raw r = read(socket.getInputStream());
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.json().getString("code")).isEqualTo("api_key_inactive");
      }
    });
  }

  @Test
  void lane_calls_count_in_usage_per_key() throws Exception {
    Fast f = fastDeployment(fake.url());
    long before = laneAnswered();
    try (Socket socket = connect()) {
      for (int i = 0; i < 20; i++) {
        socket.getOutputStream().write(post(trigger(f), f.key(), INPUT, null).getBytes(StandardCharsets.UTF_8));
        assertThat(read(socket.getInputStream()).status()).isEqualTo(200);
      }
    }
    assertThat(laneAnswered() - before).isEqualTo(20);
    // 20 lane calls plus the one that filled the caches.
    Awaitility.await().atMost(15, TimeUnit.SECONDS).untilAsserted(() -> {
      Reply usage = http.admin("GET", "/api/v1/deployments/" + f.id() + "/usage?window=1h", null, ADMIN);
      assertThat(usage.status()).as(usage.toString()).isEqualTo(200);
      assertThat(usage.data().getLong("calls")).as(usage.toString()).isEqualTo(21);
      JsonArray keys = usage.data().getJsonArray("keys");
      assertThat(keys.getJsonObject(0).getLong("calls")).isEqualTo(21);
    });
  }

  @Test
  void a_stopping_gateway_answers_the_lane_requests_it_holds() throws Exception {
    GatewayUnderTest node = GatewayUnderTest.start(GatewayUnderTest.Backing.fresh(getClass()), 1,
        Map.of("FLOWGATE_HTTP_SHUTDOWN_GRACE_SECONDS", "10", "FLOWGATE_INFERENCE_HEALTH_INTERVAL_MS", "100"));
    FakeInferenceServer slow = FakeInferenceServer.start(gateway.vertx()).latency(1500);
    boolean closed = false;
    try {
      TestHttp nodeHttp = node.http();
      String serverId = nodeHttp.admin("POST", "/api/v1/inference-servers", new JsonObject().put("name", "slow")
          .put("protocol", "passthrough").put("predict_path", "/predict")
          .put("replicas", new JsonArray().add(slow.url())), ADMIN).data().getString("id");
      JsonObject d = nodeHttp.admin("POST", "/api/v1/deployments", new JsonObject().put("execution_mode", "fast")
          .put("inference_server_id", serverId), ADMIN).data();
      Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() ->
          nodeHttp.trigger(d.getString("id"), d.getString("api_key"), INPUT).status() == 200);
      try (Socket socket = new Socket("127.0.0.1", node.port())) {
        socket.setSoTimeout(15_000);
        long before = node.gateway().fastLane().answered();
        socket.getOutputStream().write(post("/node/deployment-trigger/" + d.getString("id") + "/",
            d.getString("api_key"), INPUT, "held").getBytes(StandardCharsets.UTF_8));
        Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> node.gateway().fastLane().inFlight() == 1);
        CompletableFuture<Void> closing = CompletableFuture.runAsync(node::close);
        Raw r = read(socket.getInputStream());
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().get("x-request-id")).isEqualTo("held");
        assertThat(node.gateway().fastLane().answered()).isEqualTo(before + 1);
        closed = true;
        closing.get(30, TimeUnit.SECONDS);
      }
    } finally {
      slow.close();
      if (!closed) {
        node.close();
      }
    }
  }
}
