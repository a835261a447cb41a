package io.flowgate.control;

import io.vertx.core.http.HttpServerRequest;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The base URL clients reach this gateway at, for generated example code, Postman collections and OpenAPI documents:
 * {@code http.public_url} when configured, else the request's RFC 7239 {@code Forwarded}, then
 * {@code X-Forwarded-Proto}/{@code X-Forwarded-Host}/{@code X-Forwarded-Port}, then {@code Host}. Values that are not
 * a plain scheme or host are ignored, so nothing a client sends can break out of the string literals the snippets
 * put the URL in. Pure; any thread.
 */
final class PublicUrl {
  /** A DNS name or IPv4 address, or a bracketed IPv6 address, with an optional port. */
  private static final Pattern HOST = Pattern.compile(
      "(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\\.?|\\[[0-9A-Fa-f:.]{2,45}])"
          + "(?::[0-9]{1,5})?");
  private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");

  private PublicUrl() {
  }

  /** The base URL (no trailing slash) for {@code request}, with {@code configured} ({@code http.public_url}) first. */
  static String of(String configured, HttpServerRequest request) {
    String local = request.localAddress() == null ? "127.0.0.1"
        : request.localAddress().hostAddress() + ":" + request.localAddress().port();
    return derive(configured, request.getHeader("Forwarded"), request.getHeader("X-Forwarded-Proto"),
        request.getHeader("X-Forwarded-Host"), request.getHeader("X-Forwarded-Port"), request.getHeader("Host"),
        request.isSSL() ? "https" : "http", local);
  }

  /**
   * The base URL from the configured value or the given request headers (each may be null); {@code scheme} is the
   * connection's, {@code local} the address the request arrived at (the last resort).
   */
  static String derive(String configured, String forwarded, String forwardedProto, String forwardedHost,
      String forwardedPort, String host, String scheme, String local) {
    if (configured != null && !configured.isEmpty()) {
      return configured;
    }
    String proto = null;
    String authority = null;
    if (forwarded != null) {
      // Only the first element: the one the client-facing proxy added (RFC 7239 §4).
      String first = forwarded.split(",", 2)[0];
      for (String pair : first.split(";")) {
        int eq = pair.indexOf('=');
        if (eq < 0) {
          continue;
        }
        String name = pair.substring(0, eq).trim().toLowerCase(Locale.ROOT);
        String value = unquote(pair.substring(eq + 1).trim());
        if (name.equals("proto") && proto == null) {
          proto = scheme(value);
        } else if (name.equals("host") && authority == null) {
          authority = host(value);
        }
      }
    }
    if (proto == null) {
      proto = scheme(firstValue(forwardedProto));
    }
    if (authority == null) {
      authority = host(firstValue(forwardedHost));
      String port = firstValue(forwardedPort);
      if (authority != null && port != null && PORT.matcher(port).matches() && !hasPort(authority)) {
        authority = authority + ":" + port;
      }
    }
    if (authority == null) {
      authority = host(host);
    }
    if (authority == null) {
      authority = local.indexOf(':') != local.lastIndexOf(':') && !local.startsWith("[")
          ? "[" + local.substring(0, local.lastIndexOf(':')) + "]" + local.substring(local.lastIndexOf(':'))
          : local;
    }
    String s = proto != null ? proto : scheme;
    return s + "://" + withoutDefaultPort(s, authority);
  }

  private static String firstValue(String header) {
    if (header == null) {
      return null;
    }
    String first = header.split(",", 2)[0].trim();
    return first.isEmpty() ? null : first;
  }

  private static String unquote(String value) {
    return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
        ? value.substring(1, value.length() - 1) : value;
  }

  private static String scheme(String value) {
    if (value == null) {
      return null;
    }
    String v = value.trim().toLowerCase(Locale.ROOT);
    return v.equals("http") || v.equals("https") ? v : null;
  }

  private static String host(String value) {
    if (value == null) {
      return null;
    }
    String v = value.trim();
    return HOST.matcher(v).matches() ? v.toLowerCase(Locale.ROOT) : null;
  }

  private static boolean hasPort(String authority) {
    int close = authority.lastIndexOf(']');
    return authority.indexOf(':', close + 1) >= 0;
  }

  private static String withoutDefaultPort(String scheme, String authority) {
    String suffix = scheme.equals("https") ? ":443" : ":80";
    return authority.endsWith(suffix) ? authority.substring(0, authority.length() - suffix.length()) : authority;
  }
}
