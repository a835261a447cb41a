package io.flowgate.console;

import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The web console's static files, read once from the classpath ({@code console/}, listed in {@code console/index.txt}
 * because a jar cannot be listed) into memory. Every file but {@code index.html} is served under
 * {@code /console/a/<version>/}, where the version is a hash of all the files: such URLs never change content, so
 * browsers may cache them for a year, and a new build is picked up at once because {@code index.html} (never cached)
 * names the new version. Load on a worker thread or at start; immutable afterwards, any thread.
 */
public final class ConsoleAssets {
  /** The classpath folder of the console. */
  public static final String DEFAULT_DIR = "console";
  static final String INDEX = "index.html";
  /** The placeholder in index.html replaced by the asset version. */
  static final String VERSION_PLACEHOLDER = "{{version}}";

  private final String version;
  private final Map<String, Asset> files;
  private final Buffer index;

  /** One file: its bytes and content type. */
  record Asset(Buffer body, String contentType) {}

  private ConsoleAssets(String version, Map<String, Asset> files, Buffer index) {
    this.version = version;
    this.files = files;
    this.index = index;
  }

  /** Reads every file that {@code dir/index.txt} lists; fails naming the first missing or unknown one. */
  public static ConsoleAssets load(String dir) {
    ClassLoader loader = ConsoleAssets.class.getClassLoader();
    List<String> names = listed(loader, dir);
    MessageDigest digest = sha256();
    Map<String, Asset> files = new LinkedHashMap<>();
    String indexHtml = null;
    for (String name : names) {
      byte[] bytes = read(loader, dir + "/" + name);
      digest.update(name.getBytes(StandardCharsets.UTF_8));
      digest.update(bytes);
      if (INDEX.equals(name)) {
        indexHtml = new String(bytes, StandardCharsets.UTF_8);
      } else {
        files.put(name, new Asset(Buffer.buffer(bytes), contentType(name)));
      }
    }
    if (indexHtml == null) {
      throw new IllegalStateException(dir + "/index.txt does not list " + INDEX);
    }
    String version = HexFormat.of().formatHex(digest.digest()).substring(0, 12);
    return new ConsoleAssets(version, Map.copyOf(files),
        Buffer.buffer(indexHtml.replace(VERSION_PLACEHOLDER, version)));
  }

  /** The hash that names this set of files in asset URLs. */
  public String version() {
    return version;
  }

  /** index.html with the asset version filled in. */
  Buffer index() {
    return index;
  }

  /** The file {@code name} (a path relative to the console folder, e.g. {@code js/api.js}), or null. */
  Asset file(String name) {
    return files.get(name);
  }

  /** The names of every file but index.html. */
  List<String> names() {
    return new ArrayList<>(files.keySet());
  }

  static String contentType(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    int dot = lower.lastIndexOf('.');
    String ext = dot < 0 ? "" : lower.substring(dot + 1);
    return switch (ext) {
      case "html" -> "text/html; charset=utf-8";
      case "js", "mjs" -> "text/javascript; charset=utf-8";
      case "css" -> "text/css; charset=utf-8";
      case "svg" -> "image/svg+xml";
      case "png" -> "image/png";
      case "json" -> "application/json";
      case "txt" -> "text/plain; charset=utf-8";
      default -> throw new IllegalStateException("console file " + name + " has a type the console does not serve; "
          + "add its content type to ConsoleAssets.contentType");
    };
  }

  private static List<String> listed(ClassLoader loader, String dir) {
    String text = new String(read(loader, dir + "/index.txt"), StandardCharsets.UTF_8);
    List<String> names = new ArrayList<>();
    for (String line : text.split("\n")) {
      String name = line.trim();
      if (name.isEmpty() || name.startsWith("#")) {
        continue;
      }
      if (name.contains("..") || name.startsWith("/")) {
        throw new IllegalStateException(dir + "/index.txt lists " + name + ": names are relative, without '..'");
      }
      names.add(name);
    }
    return names;
  }

  private static byte[] read(ClassLoader loader, String resource) {
    try (InputStream in = loader.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("console resource " + resource + " is not on the classpath");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read console resource " + resource, e);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
