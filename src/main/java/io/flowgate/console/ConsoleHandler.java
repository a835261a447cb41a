package io.flowgate.console;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * Serves the web console under {@code /console/} from {@link ConsoleAssets}: {@code /console} redirects to
 * {@code /console/}, which is index.html (revalidated on every load); {@code /console/a/<version>/<file>} are the
 * scripts, styles and images (cached for a year: their URL changes with their content). Anything else is 404 (no
 * directory listing), any method but GET and HEAD 405. Every answer carries a strict Content-Security-Policy (scripts,
 * styles and calls only from this origin; no inline scripts or styles, no frames) and {@code nosniff}. The console
 * has no endpoints of its own: it calls the public control plane {@code /api/v1} with the token the user signs in
 * with. Mount with {@code router.route("/console*")}. Event-loop only.
 */
public final class ConsoleHandler implements Handler<RoutingContext> {
  /** Where the console lives. */
  public static final String PATH = "/console";
  static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
      + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  private static final CharSequence IMMUTABLE = HttpHeaders.createOptimized("public, max-age=31536000, immutable");
  private static final CharSequence NO_CACHE = HttpHeaders.createOptimized("no-cache");
  private static final CharSequence HTML = HttpHeaders.createOptimized("text/html; charset=utf-8");

  private final ConsoleAssets assets;
  private final String assetPrefix;

  public ConsoleHandler(ConsoleAssets assets) {
    this.assets = assets;
    this.assetPrefix = PATH + "/a/" + assets.version() + "/";
  }

  @Override
  public void handle(RoutingContext rc) {
    String path = rc.normalizedPath();
    if (!path.equals(PATH) && !path.startsWith(PATH + "/")) {
      rc.next();
      return;
    }
    HttpMethod method = rc.request().method();
    if (method != HttpMethod.GET && method != HttpMethod.HEAD) {
      rc.response().putHeader(HttpHeaders.ALLOW, "GET, HEAD");
      rc.fail(new GatewayException(ErrorCode.METHOD_NOT_ALLOWED, "The console is read with GET; " + method.name()
          + " is not allowed here. Manage flowgate through /api/v1."));
      return;
    }
    HttpServerResponse response = rc.response();
    secure(response.headers());
    if (path.equals(PATH)) {
      response.setStatusCode(301).putHeader(HttpHeaders.LOCATION, PATH + "/").putHeader(HttpHeaders.CACHE_CONTROL,
          NO_CACHE).end();
      return;
    }
    if (path.equals(PATH + "/") || path.equals(PATH + "/" + ConsoleAssets.INDEX)) {
      send(response, assets.index(), HTML, NO_CACHE);
      return;
    }
    ConsoleAssets.Asset asset = path.startsWith(assetPrefix) ? assets.file(path.substring(assetPrefix.length()))
        : null;
    if (asset == null) {
      rc.fail(new GatewayException(ErrorCode.NOT_FOUND, "There is no console page at " + shorten(path)
          + "; open /console/."));
      return;
    }
    send(response, asset.body(), asset.contentType(), IMMUTABLE);
  }

  /** The headers every console answer carries, errors included. */
  static void secure(MultiMap headers) {
    headers.set("Content-Security-Policy", CSP)
        .set("X-Content-Type-Options", "nosniff")
        .set("Referrer-Policy", "no-referrer")
        .set("X-Frame-Options", "DENY")
        .set("Cross-Origin-Opener-Policy", "same-origin");
  }

  private static void send(HttpServerResponse response, Buffer body, CharSequence type, CharSequence cache) {
    response.putHeader(HttpHeaders.CONTENT_TYPE, type).putHeader(HttpHeaders.CACHE_CONTROL, cache).end(body);
  }

  private static String shorten(String path) {
    return path.length() > 80 ? path.substring(0, 80) + "…" : path;
  }
}
