package io.flowgate.backends;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/** Unpacks real .txz archives (built here with the same libraries) into a temp dir, as zonky expects to find them. */
class PgBinariesTest {
  @TempDir
  Path bin;

  @Test
  void unpacks_files_links_and_modes_into_zonkys_directory_and_marks_it_ready_last() throws Exception {
    byte[] archive = archive(tar -> {
      dir(tar, "bin/");
      file(tar, "bin/postgres", 0755, "#!/bin/sh\necho postgres\n");
      dir(tar, "lib/");
      file(tar, "lib/libicudata.so.60.2", 0644, "x".repeat(200_000));
      symlink(tar, "lib/libicudata.so.60", "libicudata.so.60.2");
      hardlink(tar, "lib/libicudata.copy", "lib/libicudata.so.60.2");
      file(tar, "share/postgresql/postgres.bki", 0644, "bki"); // no directory entry before it
    });

    Path dir = PgBinaries.unpack(bin, archive);

    assertThat(dir).isEqualTo(bin.resolve("PG-" + HexFormat.of().formatHex(MessageDigest.getInstance("MD5")
        .digest(archive))));
    assertThat(Files.readString(dir.resolve("bin/postgres"))).isEqualTo("#!/bin/sh\necho postgres\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("bin/postgres"))))
        .isEqualTo("rwxr-xr-x");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("lib/libicudata.so.60.2"))))
        .isEqualTo("rw-r--r--");
    assertThat(Files.size(dir.resolve("lib/libicudata.so.60.2"))).isEqualTo(200_000);
    assertThat(Files.isSymbolicLink(dir.resolve("lib/libicudata.so.60"))).isTrue();
    assertThat(Files.readSymbolicLink(dir.resolve("lib/libicudata.so.60"))).isEqualTo(Path.of("libicudata.so.60.2"));
    assertThat(Files.size(dir.resolve("lib/libicudata.so.60"))).isEqualTo(200_000);
    assertThat(Files.isSameFile(dir.resolve("lib/libicudata.copy"), dir.resolve("lib/libicudata.so.60.2"))).isTrue();
    assertThat(Files.readString(dir.resolve("share/postgresql/postgres.bki"))).isEqualTo("bki");
    assertThat(readyForZonky(dir)).isTrue();
  }

  @Test
  void leaves_a_ready_directory_alone() throws Exception {
    byte[] archive = archive(tar -> file(tar, "bin/postgres", 0755, "v1"));
    Path dir = PgBinaries.unpack(bin, archive);
    Files.delete(dir.resolve("bin/postgres"));

    assertThat(PgBinaries.unpack(bin, archive)).isEqualTo(dir);
    assertThat(dir.resolve("bin/postgres")).doesNotExist();
  }

  @Test
  void unpacks_again_over_what_an_interrupted_unpack_left_without_its_marker() throws Exception {
    byte[] archive = archive(tar -> {
      file(tar, "bin/postgres", 0755, "whole");
      symlink(tar, "bin/pg", "postgres");
    });
    Path dir = PgBinaries.directory(bin, archive);
    Files.createDirectories(dir.resolve("bin"));
    Files.writeString(dir.resolve("bin/postgres"), "half");
    Files.createSymbolicLink(dir.resolve("bin/pg"), Path.of("elsewhere"));

    PgBinaries.unpack(bin, archive);

    assertThat(Files.readString(dir.resolve("bin/postgres"))).isEqualTo("whole");
    assertThat(Files.readSymbolicLink(dir.resolve("bin/pg"))).isEqualTo(Path.of("postgres"));
    assertThat(readyForZonky(dir)).isTrue();
  }

  @Test
  void refuses_entries_outside_the_directory_and_leaves_nothing_behind() throws Exception {
    byte[] escaping = archive(tar -> {
      file(tar, "bin/postgres", 0755, "fine");
      file(tar, "../../evil", 0644, "not here");
    });
    assertThatThrownBy(() -> PgBinaries.unpack(bin, escaping)).isInstanceOf(IOException.class)
        .hasMessageContaining("../../evil").hasMessageContaining("outside");
    assertThat(PgBinaries.directory(bin, escaping)).doesNotExist();
    assertThat(bin.getParent().getParent().resolve("evil")).doesNotExist();

    byte[] linking = archive(tar -> hardlink(tar, "bin/passwd", "../../../etc/passwd"));
    assertThatThrownBy(() -> PgBinaries.unpack(bin, linking)).isInstanceOf(IOException.class)
        .hasMessageContaining("links outside");
    assertThat(PgBinaries.directory(bin, linking)).doesNotExist();
  }

  @Test
  void a_corrupt_archive_fails_and_leaves_nothing_behind() throws Exception {
    byte[] whole = archive(tar -> file(tar, "bin/postgres", 0755, "x".repeat(100_000)));
    byte[] truncated = java.util.Arrays.copyOf(whole, whole.length / 2);
    byte[] notXz = "not an archive".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> PgBinaries.unpack(bin, truncated)).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> PgBinaries.unpack(bin, notXz)).isInstanceOf(IOException.class);
    try (Stream<Path> left = Files.list(bin)) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void a_write_that_fails_fails_the_unpack_and_leaves_nothing_behind() throws Exception {
    // "bin" is a file, so the directory for "bin/postgres" cannot be made: the writer's thread fails, not the decoding.
    byte[] archive = archive(tar -> {
      file(tar, "bin", 0644, "not a directory");
      file(tar, "bin/postgres", 0755, "x".repeat(50_000));
      file(tar, "lib/libpq.so", 0644, "y".repeat(50_000));
    });

    assertThatThrownBy(() -> PgBinaries.unpack(bin, archive)).isInstanceOf(IOException.class)
        .hasMessageContaining("bin");
    assertThat(PgBinaries.directory(bin, archive)).doesNotExist();
  }

  /** zonky 2.2's check (EmbeddedPostgres.isPgBinReady): the marker exists and nothing else in the dir is newer. */
  private static boolean readyForZonky(Path dir) throws IOException {
    Path marker = dir.resolve(PgBinaries.READY_MARKER);
    if (!Files.exists(marker)) {
      return false;
    }
    long markerTime = Files.getLastModifiedTime(marker).toMillis();
    long newest;
    try (Stream<Path> files = Files.list(dir)) {
      newest = files.filter(p -> !p.equals(marker)).mapToLong(p -> p.toFile().lastModified()).max().orElse(0);
    }
    return dir.toFile().lastModified() - 100 <= markerTime && newest <= markerTime;
  }

  private interface Entries {
    void write(TarArchiveOutputStream tar) throws IOException;
  }

  private static byte[] archive(Entries entries) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new XZOutputStream(out, new LZMA2Options()))) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      entries.write(tar);
    }
    return out.toByteArray();
  }

  private static void dir(TarArchiveOutputStream tar, String name) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_DIR);
    e.setMode(040755);
    tar.putArchiveEntry(e);
    tar.closeArchiveEntry();
  }

  private static void file(TarArchiveOutputStream tar, String name, int mode, String content) throws IOException {
    byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
    TarArchiveEntry e = new TarArchiveEntry(name, true);
    e.setMode(0100000 | mode);
    e.setSize(bytes.length);
    e.setModTime(FileTime.fromMillis(0));
    tar.putArchiveEntry(e);
    tar.write(bytes);
    tar.closeArchiveEntry();
  }

  private static void symlink(TarArchiveOutputStream tar, String name, String target) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
    e.setLinkName(target);
    tar.putArchiveEntry(e);
    tar.closeArchiveEntry();
  }

  private static void hardlink(TarArchiveOutputStream tar, String name, String target) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_LINK);
    e.setLinkName(target);
    tar.putArchiveEntry(e);
    tar.closeArchiveEntry();
  }
}
