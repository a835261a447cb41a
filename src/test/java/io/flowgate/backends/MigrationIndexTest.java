package io.flowgate.backends;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Guards db/migration/index.txt: it must list exactly the migration files in the source tree, all loadable. */
class MigrationIndexTest {

  private static final Path SOURCE_DIR = Path.of("src/main/resources/db/migration");

  @Test
  void index_lists_exactly_the_migration_files_of_the_source_tree() throws IOException {
    List<String> files;
    try (Stream<Path> paths = Files.list(SOURCE_DIR)) {
      files = paths.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sql")).sorted()
        .collect(Collectors.toList());
    }

    assertThat(Migrations.readIndex(Migrations.DEFAULT_DIR))
      .as("every .sql file in %s must be appended to index.txt (and every listed file must exist)", SOURCE_DIR)
      .containsExactlyInAnyOrderElementsOf(files);
  }

  @Test
  void every_listed_migration_has_a_valid_name_a_unique_version_and_is_on_the_classpath() {
    List<Migrations.Migration> migrations =
      Migrations.load(Migrations.DEFAULT_DIR, Migrations.readIndex(Migrations.DEFAULT_DIR));

    assertThat(migrations).extracting(Migrations.Migration::version).doesNotHaveDuplicates().isSorted();
  }
}
