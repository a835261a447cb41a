package io.flowgate.webhooks;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A callback URL checked for shape, without any network access: {@code http} or {@code https}, no credentials, no
 * fragment, a host that is either a canonical IP literal or a DNS name. Hosts that browsers and C resolvers read as
 * numbers but Java reads otherwise ({@code 127.1}, {@code 0x7f000001}, {@code 2130706433}, {@code 0177.0.0.1}) are
 * refused outright, so that the address flowgate checks is the address every reader of the URL means. Immutable; any
 * thread.
 *
 * @param url the URL as given
 * @param https whether the scheme is https
 * @param host the host, lower case, without IPv6 brackets
 * @param port the port (the scheme's default when the URL names none)
 * @param requestUri path and query, as sent in the request line
 * @param literal the address when the host is an IP literal, else null (a name, resolved before each use)
 */
public record WebhookUrl(String url, boolean https, String host, int port, String requestUri, InetAddress literal) {
  static final int MAX_LENGTH = 2048;
  private static final Pattern DOTTED_QUAD = Pattern.compile(
      "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
  // What the WHATWG URL standard (browsers) and inet_aton(3) read as an IPv4 number: decimal, 0x-hex or 0-octal.
  private static final Pattern NUMERIC_LABEL = Pattern.compile("(0[xX][0-9a-fA-F]*|[0-9]+)");
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  /** Parses {@code raw}; throws IllegalArgumentException with a sentence naming the problem. */
  public static WebhookUrl parse(String raw) {
    if (raw == null || raw.isBlank()) {
      throw new IllegalArgumentException("must be an absolute http:// or https:// URL.");
    }
    if (raw.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("is longer than " + MAX_LENGTH + " characters.");
    }
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c <= 0x20 || c == 0x7f) {
        throw new IllegalArgumentException("must not contain spaces or control characters.");
      }
    }
    URI uri;
    try {
      uri = new URI(raw);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("is not a valid URL (" + e.getReason() + ").");
    }
    String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!"http".equals(scheme) && !"https".equals(scheme)) {
      throw new IllegalArgumentException("must use http:// or https://" + (scheme == null ? "." : ", not " + scheme
          + ":."));
    }
    if (uri.getRawUserInfo() != null || uri.getRawAuthority() != null && uri.getRawAuthority().contains("@")) {
      throw new IllegalArgumentException("must not contain credentials (user:password@); receivers authenticate "
          + "deliveries by their webhook-signature, and a secret may go in the path instead.");
    }
    if (uri.getRawFragment() != null) {
      throw new IllegalArgumentException("must not contain a #fragment (it is never sent).");
    }
    String authority = uri.getRawAuthority();
    if (authority == null || authority.isEmpty()) {
      throw new IllegalArgumentException("has no host.");
    }
    // java.net.URI leaves the host null for names it cannot read (127.1, exa_mple.com): split the authority here so
    // that they are refused with the reason.
    String host = uri.getHost() != null ? uri.getHost() : hostPart(authority);
    host = host.toLowerCase(Locale.ROOT);
    boolean https = scheme.equals("https");
    int port = uri.getHost() != null ? uri.getPort() : portPart(authority);
    port = port == -1 ? (https ? 443 : 80) : port;
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("has an invalid port (1 to 65535).");
    }
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String requestUri = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
    return new WebhookUrl(raw, https, hostOf(host), port, requestUri, literalOf(host));
  }

  private static String hostPart(String authority) {
    int colon = authority.lastIndexOf(':');
    return colon < 0 || authority.startsWith("[") ? authority : authority.substring(0, colon);
  }

  private static int portPart(String authority) {
    int colon = authority.lastIndexOf(':');
    if (colon < 0 || authority.startsWith("[") || colon == authority.length() - 1) {
      return -1;
    }
    try {
      return Integer.parseInt(authority.substring(colon + 1));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static String hostOf(String host) {
    return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
  }

  /** The address of an IP-literal host, null for a DNS name; refuses every other numeric spelling. */
  private static InetAddress literalOf(String host) {
    if (host.startsWith("[")) {
      String inner = host.substring(1, host.length() - 1);
      if (inner.contains("%")) {
        throw new IllegalArgumentException("must not use an IPv6 zone id ('%').");
      }
      try {
        // A bracketed IPv6 literal: parsed, never looked up.
        return InetAddress.getByName(inner);
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("has an invalid IPv6 address.");
      }
    }
    if (DOTTED_QUAD.matcher(host).matches()) {
      String[] parts = host.split("\\.");
      byte[] bytes = new byte[4];
      for (int i = 0; i < 4; i++) {
        bytes[i] = (byte) Integer.parseInt(parts[i]);
      }
      try {
        return InetAddress.getByAddress(bytes);
      } catch (UnknownHostException e) {
        throw new IllegalStateException("4 bytes are an IPv4 address", e);
      }
    }
    String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    String[] labels = name.split("\\.", -1);
    if (NUMERIC_LABEL.matcher(labels[labels.length - 1]).matches()) {
      String meant = NumericHost.read(name);
      throw new IllegalArgumentException("'" + host + "' is a numeric spelling of an IP address"
          + (meant == null ? "" : " (" + meant + ")") + " that programs read differently; write an IPv4 address as"
          + " four decimal numbers (e.g. 203.0.113.7) or use a host name.");
    }
    if (name.isEmpty() || name.length() > 253) {
      throw new IllegalArgumentException("has no valid host name.");
    }
    for (String label : labels) {
      if (!LABEL.matcher(label).matches()) {
        throw new IllegalArgumentException("has an invalid host name '" + host + "' (letters, digits, '-' and "
            + "'.'; international names in their xn-- form).");
      }
    }
    return null;
  }

  /** The Host header: the host (IPv6 in brackets), with the port unless it is the scheme's default. */
  public String hostHeader() {
    String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return port == (https ? 443 : 80) ? h : h + ":" + port;
  }

  /** The URL without path, query or credentials: what logs and error messages may show. */
  public String origin() {
    return (https ? "https://" : "http://") + hostHeader();
  }

  @Override
  public String toString() {
    return origin();
  }

  /** Reads a numeric host the way browsers do (WHATWG IPv4 parser), for messages only. */
  static final class NumericHost {
    private NumericHost() {
    }

    /** The dotted-quad address {@code host} means to a browser, or null when it means none. */
    static String read(String host) {
      String[] parts = host.split("\\.", -1);
      if (parts.length > 4) {
        return null;
      }
      long[] numbers = new long[parts.length];
      for (int i = 0; i < parts.length; i++) {
        Long n = number(parts[i]);
        if (n == null) {
          return null;
        }
        numbers[i] = n;
      }
      long value = 0;
      for (int i = 0; i < numbers.length - 1; i++) {
        if (numbers[i] > 255) {
          return null;
        }
        value |= numbers[i] << (8 * (3 - i));
      }
      long last = numbers[numbers.length - 1];
      if (last >= 1L << (8 * (5 - numbers.length))) {
        return null;
      }
      value |= last;
      return ((value >> 24) & 255) + "." + ((value >> 16) & 255) + "." + ((value >> 8) & 255) + "." + (value & 255);
    }

    private static Long number(String part) {
      try {
        if (part.startsWith("0x") || part.startsWith("0X")) {
          return part.length() == 2 ? 0L : Long.parseLong(part.substring(2), 16);
        }
        if (part.length() > 1 && part.startsWith("0")) {
          return Long.parseLong(part.substring(1), 8);
        }
        return part.isEmpty() ? null : Long.parseLong(part);
      } catch (NumberFormatException e) {
        return null;
      }
    }
  }
}
