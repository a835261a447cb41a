package io.flowgate.webhooks;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * Tells globally routable addresses from the ones a callback must never reach (OWASP API7, RELIABILITY §3): loopback,
 * private (RFC 1918), link-local (cloud metadata at 169.254.169.254), CGNAT 100.64/10, unspecified, multicast,
 * broadcast, reserved and documentation ranges; in IPv6 anything outside global unicast 2000::/3, unique-local
 * fc00::/7, link-local fe80::/10, and IPv4 addresses carried inside IPv6 (mapped ::ffff:0:0/96, compatible ::/96,
 * NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo) judged by the IPv4 address they carry. Pure; any thread.
 */
public final class AddressClassifier {
  private AddressClassifier() {
  }

  /** Why {@code address} is refused ("loopback", "private", ...), or null when it is globally routable. */
  public static String refusal(InetAddress address) {
    if (address instanceof Inet4Address v4) {
      return refusal4(v4.getAddress());
    }
    if (address instanceof Inet6Address v6) {
      return refusal6(v6.getAddress());
    }
    return "not an IP address";
  }

  private static String refusal4(byte[] b) {
    int a0 = b[0] & 0xff;
    int a1 = b[1] & 0xff;
    int a2 = b[2] & 0xff;
    if (a0 == 0) {
      return "an unspecified address (0.0.0.0/8)";
    }
    if (a0 == 127) {
      return "a loopback address";
    }
    if (a0 == 10 || a0 == 172 && (a1 & 0xf0) == 16 || a0 == 192 && a1 == 168) {
      return "a private address (RFC 1918)";
    }
    if (a0 == 169 && a1 == 254) {
      return "a link-local address (cloud metadata lives here)";
    }
    if (a0 == 100 && (a1 & 0xc0) == 64) {
      return "a carrier-grade NAT address (100.64.0.0/10)";
    }
    if (a0 == 192 && a1 == 0 && a2 == 0) {
      return "an IETF protocol address (192.0.0.0/24)";
    }
    if (a0 == 192 && a1 == 0 && a2 == 2 || a0 == 198 && a1 == 51 && a2 == 100 || a0 == 203 && a1 == 0 && a2 == 113) {
      return "a documentation address";
    }
    if (a0 == 192 && a1 == 88 && a2 == 99) {
      return "a 6to4 relay address (192.88.99.0/24)";
    }
    if (a0 == 198 && (a1 & 0xfe) == 18) {
      return "a benchmarking address (198.18.0.0/15)";
    }
    if (a0 >= 224 && a0 <= 239) {
      return "a multicast address";
    }
    if (a0 >= 240) {
      return "a reserved or broadcast address (240.0.0.0/4)";
    }
    return null;
  }

  private static String refusal6(byte[] b) {
    if (allZero(b, 0, 10)) {
      if ((b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
        String embedded = refusal4(slice(b, 12));
        return embedded == null ? null : "an IPv4-mapped IPv6 form of " + embedded;
      }
      if (allZero(b, 10, 16)) {
        return "an unspecified IPv6 address (::)";
      }
      if (allZero(b, 10, 15) && b[15] == 1) {
        return "a loopback address (::1)";
      }
      if (allZero(b, 10, 12)) {
        return "an IPv4-compatible IPv6 address (deprecated)";
      }
    }
    int w0 = word(b, 0);
    int w1 = word(b, 1);
    if (w0 == 0x0064 && w1 == 0xff9b && allZero(b, 4, 12)) {
      // NAT64 well-known prefix: an IPv6-only host reaches IPv4 through it; judge the IPv4 address it carries.
      String embedded = refusal4(slice(b, 12));
      return embedded == null ? null : "a NAT64 form of " + embedded;
    }
    if (w0 == 0x2002) {
      String embedded = refusal4(new byte[] {b[2], b[3], b[4], b[5]});
      return embedded == null ? null : "a 6to4 form of " + embedded;
    }
    if ((w0 & 0xfe00) == 0xfc00) {
      return "a unique-local IPv6 address (fc00::/7)";
    }
    if ((w0 & 0xffc0) == 0xfe80) {
      return "a link-local IPv6 address (fe80::/10)";
    }
    if ((w0 & 0xffc0) == 0xfec0) {
      return "a site-local IPv6 address (fec0::/10)";
    }
    if ((w0 & 0xff00) == 0xff00) {
      return "a multicast IPv6 address";
    }
    if ((w0 & 0xe000) != 0x2000) {
      return "an IPv6 address outside global unicast (2000::/3)";
    }
    if (w0 == 0x2001 && (w1 & 0xfe00) == 0) {
      return "an IETF protocol IPv6 address (2001::/23: Teredo, benchmarking, ORCHID)";
    }
    if (w0 == 0x2001 && w1 == 0x0db8 || w0 == 0x3fff && (w1 & 0xf000) == 0) {
      return "a documentation IPv6 address";
    }
    return null;
  }

  private static boolean allZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static int word(byte[] b, int index) {
    return (b[2 * index] & 0xff) << 8 | b[2 * index + 1] & 0xff;
  }

  private static byte[] slice(byte[] b, int from) {
    return new byte[] {b[from], b[from + 1], b[from + 2], b[from + 3]};
  }
}
