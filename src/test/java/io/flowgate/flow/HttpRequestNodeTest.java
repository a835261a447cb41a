package io.flowgate.flow;

import static io.flowgate.flow.FlowFixtures.chain;
import static io.flowgate.flow.FlowFixtures.compile;
import static io.flowgate.flow.FlowFixtures.flow;
import static io.flowgate.flow.FlowFixtures.node;
import static io.flowgate.flow.FlowFixtures.run;
import static io.flowgate.flow.FlowFixtures.verify;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
class HttpRequestNodeTest {

  private NodeTypes types;
  private FlowExecutor executor;
  private int port;
  /** Completed when a request reaches {@code /slow}; its connection's close completes {@link #slowClosed}. */
  private Promise<Void> slowArrived;
  private Promise<Void> slowClosed;

  @BeforeEach
  void setUp(Vertx vertx, VertxTestContext tc) {
    NodeServices services = FlowFixtures.services(vertx);
    types = NodeTypes.load(services);
    executor = new FlowExecutor(services);
    slowArrived = Promise.promise();
    slowClosed = Promise.promise();
    vertx.createHttpServer().requestHandler(this::handle).listen(0)
        .onComplete(tc.succeeding(server -> {
          port = server.actualPort();
          tc.completeNow();
        }));
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    if (path.equals("/echo")) {
      req.body().onSuccess(body -> {
        JsonObject headers = new JsonObject();
        req.headers().forEach(h -> headers.put(h.getKey().toLowerCase(), h.getValue()));
        req.response().putHeader("content-type", "application/json; charset=utf-8")
            .putHeader("x-reply", "yes")
            .end(new JsonObject().put("method", req.method().name()).put("query", req.query())
                .put("headers", headers).put("body", body.length() == 0 ? null : body.toString()).encode());
      });
    } else if (path.equals("/teapot")) {
      req.response().setStatusCode(418).putHeader("content-type", "text/plain").end("short and stout");
    } else if (path.equals("/big")) {
      req.response().putHeader("content-type", "application/octet-stream").end(Buffer.buffer(new byte[100_000]));
    } else if (path.equals("/chunked-big")) {
      req.response().setChunked(true).putHeader("content-type", "text/plain");
      for (int i = 0; i < 10; i++) {
        req.response().write(Buffer.buffer(new byte[10_000]));
      }
      req.response().end();
    } else if (path.equals("/slow")) {
      req.connection().closeHandler(v -> slowClosed.tryComplete());
      slowArrived.tryComplete();
    } else {
      req.response().setStatusCode(404).end();
    }
  }

  private JsonObject httpFlow(JsonObject config) {
    return flow(new JsonArray().add(node("input", "api_input")).add(node("call", "http_request", config))
        .add(node("output", "output")), chain("input", "call", "output"));
  }

  private String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  @Test
  void sends_a_json_body_and_headers_built_from_expressions(Vertx vertx, VertxTestContext tc) throws Exception {
    JsonObject config = new JsonObject()
        .put("method", "POST")
        .put("url", "='" + url("/echo") + "?id=' & $string(id)")
        .put("headers", new JsonObject().put("X-Token", "=$input.token").put("X-Static", "fixed"))
        .put("body", new JsonObject().put("name", "=$uppercase(name)").put("count", 2)
            .put("nested", new JsonArray().add("=id * 10").add("==literal")));
    FlowPlan plan = compile(types, httpFlow(config));
    JsonObject input = new JsonObject().put("id", 7).put("name", "ada").put("token", "t-123");
    verify(tc, run(vertx, executor, plan, input, new RunControl()), r -> {
      assertThat(r.outcome()).as("%s", r.error()).isEqualTo(FlowOutcome.COMPLETED);
      JsonObject out = r.outputData();
      assertThat(out.getInteger("status")).isEqualTo(200);
      assertThat(out.getJsonObject("headers").getString("x-reply")).isEqualTo("yes");
      JsonObject echo = out.getJsonObject("body");
      assertThat(echo.getString("method")).isEqualTo("POST");
      assertThat(echo.getString("query")).isEqualTo("id=7");
      assertThat(echo.getJsonObject("headers").getString("x-token")).isEqualTo("t-123");
      assertThat(echo.getJsonObject("headers").getString("x-static")).isEqualTo("fixed");
      assertThat(echo.getJsonObject("headers").getString("content-type")).isEqualTo("application/json");
      assertThat(new JsonObject(echo.getString("body")))
          .isEqualTo(new JsonObject("{\"name\":\"ADA\",\"count\":2,\"nested\":[70,\"=literal\"]}"));
    });
  }

  @Test
  void passes_a_non_2xx_status_through_as_output(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types, httpFlow(new JsonObject().put("url", url("/teapot"))));
    verify(tc, run(vertx, executor, plan, new JsonObject(), new RunControl()), r -> {
      assertThat(r.outcome()).isEqualTo(FlowOutcome.COMPLETED);
      assertThat(r.outputData().getInteger("status")).isEqualTo(418);
      assertThat(r.outputData().getValue("body")).isEqualTo("short and stout");
    });
  }

  @Test
  void fails_the_node_when_the_connection_is_refused(Vertx vertx, VertxTestContext tc) throws Exception {
    HttpServer closed = vertx.createHttpServer().requestHandler(req -> req.response().end());
    closed.listen(0).compose(s -> {
      int deadPort = s.actualPort();
      return s.close().map(deadPort);
    }).onComplete(tc.succeeding(deadPort -> {
      try {
        FlowPlan plan = compile(types, httpFlow(new JsonObject()
            .put("url", "http://127.0.0.1:" + deadPort + "/x?secret=hunter2")));
        verify(tc, run(vertx, executor, plan, new JsonObject(), new RunControl()), r -> {
          assertThat(r.outcome()).isEqualTo(FlowOutcome.FAILED);
          assertThat(r.error().getString("node_id")).isEqualTo("call");
          assertThat(r.error().getString("message"))
              .startsWith("GET http://127.0.0.1:" + deadPort + "/x failed: ")
              // "refused" as a rule; on a busy machine another process may take the freed port and hang up.
              .containsAnyOf("refused", "Refused", "closed", "reset")
              .doesNotContain("hunter2");
        });
      } catch (FlowValidationException e) {
        tc.failNow(e);
      }
    }));
  }

  @Test
  void fails_the_node_when_the_server_does_not_answer_in_time(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types, httpFlow(new JsonObject().put("url", url("/slow")).put("timeout_ms", 200)));
    Checkpoint done = tc.checkpoint(2);
    slowClosed.future().onComplete(tc.succeeding(v -> done.flag()));
    run(vertx, executor, plan, new JsonObject(), new RunControl()).onComplete(tc.succeeding(r -> tc.verify(() -> {
      assertThat(r.outcome()).isEqualTo(FlowOutcome.FAILED);
      assertThat(r.error().getString("message")).isEqualTo("GET " + url("/slow") + " timed out after 200 ms");
      done.flag();
    })));
  }

  @Test
  void cancelling_the_run_resets_the_request_in_flight(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types, httpFlow(new JsonObject().put("url", url("/slow"))));
    RunControl control = new RunControl();
    Checkpoint done = tc.checkpoint(2);
    slowArrived.future().onSuccess(v -> control.cancel("client went away"));
    slowClosed.future().onComplete(tc.succeeding(v -> done.flag()));
    run(vertx, executor, plan, new JsonObject(), control).onComplete(tc.succeeding(r -> tc.verify(() -> {
      assertThat(r.outcome()).isEqualTo(FlowOutcome.CANCELLED);
      assertThat(r.nodeOutputs().getJsonObject("call").getString("status")).isEqualTo("cancelled");
      done.flag();
    })));
  }

  @Test
  void fails_the_node_when_the_response_is_too_large(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan declared = compile(types, httpFlow(new JsonObject().put("url", url("/big"))));
    FlowPlan streamed = compile(types, httpFlow(new JsonObject().put("url", url("/chunked-big"))));
    Checkpoint done = tc.checkpoint(2);
    for (FlowPlan plan : new FlowPlan[] {declared, streamed}) {
      run(vertx, executor, plan, new JsonObject(), new RunControl()).onComplete(tc.succeeding(r -> tc.verify(() -> {
        assertThat(r.outcome()).isEqualTo(FlowOutcome.FAILED);
        assertThat(r.error().getString("message")).contains("exceeds the limit of 65536 bytes");
        done.flag();
      })));
    }
  }

  @Test
  void fails_the_node_when_an_expression_yields_no_url(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types, httpFlow(new JsonObject().put("url", "=$.missing")));
    verify(tc, run(vertx, executor, plan, new JsonObject(), new RunControl()), r -> {
      assertThat(r.outcome()).isEqualTo(FlowOutcome.FAILED);
      assertThat(r.error().getString("message")).isEqualTo("url must be a string, got nothing");
    });
  }
}
