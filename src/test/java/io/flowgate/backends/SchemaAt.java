package io.flowgate.backends;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import java.util.List;

/**
 * The real schema as an older version of flowgate left it: the migrations up to a version, for tests of what an
 * upgrade does to rows written before it. Thread-safe (stateless).
 */
public final class SchemaAt {
  private SchemaAt() {
  }

  /** Applies the migrations of {@code db/migration} up to and including {@code version}; how many were applied. */
  public static Future<Integer> migrate(Pool pool, int version) {
    List<String> files = Migrations.readIndex(Migrations.DEFAULT_DIR).stream()
        .filter(f -> Integer.parseInt(f.substring(1, f.indexOf("__"))) <= version)
        .toList();
    return Migrations.migrate(pool, Migrations.DEFAULT_DIR, files);
  }
}
