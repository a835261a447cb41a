package io.flowgate.testsupport;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A small blocking HTTP client for integration tests (JUnit thread only), speaking to a gateway on loopback.
 */
public final class TestHttp {
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5))
      .version(HttpClient.Version.HTTP_1_1)
      .build();
  private final String base;

  public TestHttp(String base) {
    this.base = base;
  }

  /** A response: status, headers, body text (and the body as JSON when it is JSON). */
  public record Reply(int status, java.net.http.HttpHeaders headers, String body) {
    public JsonObject json() {
      return new JsonObject(body);
    }

    public String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    /** The {@code data} member of a success envelope. */
    public JsonObject data() {
      return json().getJsonObject("data");
    }

    @Override
    public String toString() {
      return status + " " + body;
    }
  }

  public Reply send(String method, String path, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    try {
      HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.headers(), r.body());
    } catch (IOException e) {
      throw new IllegalStateException(method + " " + path + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A control-plane call with the bearer token; {@code body} may be null. */
  public Reply admin(String method, String path, JsonObject body, String token) {
    return body == null
        ? send(method, path, null, "Authorization", "Bearer " + token)
        : send(method, path, body.encode(), "Authorization", "Bearer " + token, "Content-Type", "application/json");
  }

  /** A trigger with {@code X-API-Key} and a JSON body. */
  public Reply trigger(String deploymentId, String apiKey, String body, String... extraHeaders) {
    String[] headers = new String[4 + extraHeaders.length];
    headers[0] = "X-API-Key";
    headers[1] = apiKey;
    headers[2] = "Content-Type";
    headers[3] = "application/json";
    System.arraycopy(extraHeaders, 0, headers, 4, extraHeaders.length);
    return send("POST", "/node/deployment-trigger/" + deploymentId + "/", body, headers);
  }
}
