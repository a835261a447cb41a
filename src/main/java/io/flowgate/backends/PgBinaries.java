package io.flowgate.backends;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tukaani.xz.XZInputStream;

/**
 * Unpacks the embedded PostgreSQL's binaries (a {@code .txz} archive) where zonky's {@code EmbeddedPostgres} looks
 * for them, streaming each file to disk, so that zonky finds them ready and unpacks nothing itself.
 *
 * <p>Why: zonky reads each file of the archive whole into a heap array and writes it through an
 * {@code AsynchronousFileChannel}, which copies a heap buffer into a temporary native buffer of the same size first:
 * 26.9 MB for {@code libicudata}. glibc serves that from {@code mmap}, and freeing it raises its mmap threshold to
 * 26.9 MB and its trim threshold to 53.8 MB for the rest of the process (glibc's dynamic thresholds). From then on no
 * malloc arena of the JVM gives a free top below 53.8 MB back, and the periodic {@code malloc_trim} does not trim
 * other arenas' tops either: a gateway started on a new data dir kept ~15 MB more resident under the Fast Mode load
 * than one started where the binaries were already unpacked (bench/RESULTS.md). Here every write is of an 8 KB heap
 * buffer, which the JDK copies through an 8 KB native buffer it keeps per thread.
 *
 * <p>The layout is zonky's (2.2.x): {@code binDir/PG-<md5 hex of the archive>/}, ready once its {@code .exists}
 * marker is there and no other file in it is newer. The marker is written last, so a directory an interrupted unpack
 * left behind has none and is unpacked again over it. Blocking; called under the data dir's lock.
 */
final class PgBinaries {
  private static final Logger LOG = LoggerFactory.getLogger(PgBinaries.class);
  static final String READY_MARKER = ".exists";

  private PgBinaries() {}

  /** zonky's directory for {@code archive}: {@code binDir/PG-<md5 hex>}. */
  static Path directory(Path binDir, byte[] archive) {
    try {
      return binDir.resolve("PG-" + HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(archive)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is a required JDK algorithm", e);
    }
  }

  /**
   * Unpacks {@code archive} into {@link #directory} unless it is there already.
   *
   * @return the directory
   * @throws IOException if the archive cannot be read or written out; what was written is removed again
   */
  static Path unpack(Path binDir, byte[] archive) throws IOException {
    Path dir = directory(binDir, archive);
    if (Files.exists(dir.resolve(READY_MARKER))) {
      return dir;
    }
    long started = System.nanoTime();
    try {
      Files.createDirectories(dir);
      int files = extract(archive, dir);
      Path marker = dir.resolve(READY_MARKER);
      Files.deleteIfExists(marker);
      Files.createFile(marker);
      Files.setLastModifiedTime(marker, FileTime.fromMillis(System.currentTimeMillis()));
      LOG.info("unpacked the embedded PostgreSQL's binaries ({} files) into {} in {} ms", files, dir,
          (System.nanoTime() - started) / 1_000_000);
      return dir;
    } catch (IOException | RuntimeException e) {
      deleteQuietly(dir);
      throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
    }
  }

  private static int extract(byte[] archive, Path dir) throws IOException {
    int files = 0;
    try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(new ByteArrayInputStream(archive)))) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        Path target = dir.resolve(entry.getName()).normalize();
        if (!target.startsWith(dir) || target.equals(dir) && !entry.isDirectory()) {
          throw new IOException("archive entry " + entry.getName() + " points outside " + dir);
        }
        if (entry.isDirectory()) {
          Files.createDirectories(target);
          continue;
        }
        Files.createDirectories(target.getParent());
        if (entry.isSymbolicLink()) {
          Files.deleteIfExists(target);
          Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
        } else if (entry.isLink()) {
          Path linked = dir.resolve(entry.getLinkName()).normalize();
          if (!linked.startsWith(dir)) {
            throw new IOException("archive entry " + entry.getName() + " links outside " + dir);
          }
          Files.deleteIfExists(target);
          Files.createLink(target, linked);
        } else if (entry.isFile()) {
          Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
          setMode(target, entry.getMode());
          files++;
        } else {
          throw new IOException("archive entry " + entry.getName() + " is neither a file, a directory nor a link");
        }
      }
    }
    return files;
  }

  /** The entry's permission bits, where the file system has them; at least readable and writable by the owner. */
  private static void setMode(Path file, int mode) throws IOException {
    if (!Files.getFileStore(file).supportsFileAttributeView("posix")) {
      if ((mode & 0100) != 0 && !file.toFile().setExecutable(true)) {
        throw new IOException("cannot make " + file + " executable");
      }
      return;
    }
    Set<PosixFilePermission> permissions = EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    PosixFilePermission[] bits = {
      PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
      PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
      PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
    for (int i = 0; i < bits.length; i++) {
      if ((mode & (1 << i)) != 0) {
        permissions.add(bits[i]);
      }
    }
    Files.setPosixFilePermissions(file, permissions);
  }

  private static void deleteQuietly(Path dir) {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("cannot remove the partly unpacked {}: {}", dir, e.toString());
    }
  }
}
