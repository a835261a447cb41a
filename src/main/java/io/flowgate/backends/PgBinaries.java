package io.flowgate.backends;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
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
 * than one started where the binaries were already unpacked (bench/RESULTS.md). Here every write is a slice of at most
 * 8 KB, which the JDK copies through a buffer on its stack, and the writing overlaps the decoding (see Writer).
 *
 * <p>The layout is zonky's (2.2.x): {@code binDir/PG-<md5 hex of the archive>/}, ready once its {@code .exists}
 * marker is there and no other file in it is newer. The marker is written last, so a directory an interrupted unpack
 * left behind has none and is unpacked again over it. Blocking; called under the data dir's lock.
 */
final class PgBinaries {
  private static final Logger LOG = LoggerFactory.getLogger(PgBinaries.class);
  static final String READY_MARKER = ".exists";
  private static final int WRITE_SLICE = 8192;

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
    Writer writer = new Writer();
    IOException failed = null;
    try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(new ByteArrayInputStream(archive)))) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        writer.check();
        String name = entry.getName();
        Path target = dir.resolve(name).normalize();
        if (!target.startsWith(dir) || target.equals(dir) && !entry.isDirectory()) {
          throw new IOException("archive entry " + name + " points outside " + dir);
        }
        if (entry.isDirectory()) {
          writer.submit(0, () -> Files.createDirectories(target));
        } else if (entry.isSymbolicLink()) {
          Path link = Path.of(entry.getLinkName());
          writer.submit(0, () -> {
            Files.createDirectories(target.getParent());
            Files.deleteIfExists(target);
            Files.createSymbolicLink(target, link);
          });
        } else if (entry.isLink()) {
          Path linked = dir.resolve(entry.getLinkName()).normalize();
          if (!linked.startsWith(dir)) {
            throw new IOException("archive entry " + name + " links outside " + dir);
          }
          writer.submit(0, () -> {
            Files.createDirectories(target.getParent());
            Files.deleteIfExists(target);
            Files.createLink(target, linked);
          });
        } else if (entry.isFile()) {
          byte[] content = new byte[Math.toIntExact(entry.getSize())];
          if (tar.readNBytes(content, 0, content.length) != content.length) {
            throw new IOException("archive entry " + name + " is truncated");
          }
          int mode = entry.getMode();
          writer.submit(content.length, () -> {
            Files.createDirectories(target.getParent());
            write(target, content);
            setMode(target, mode);
          });
          files++;
        } else {
          throw new IOException("archive entry " + name + " is neither a file, a directory nor a link");
        }
      }
    } catch (IOException | RuntimeException e) {
      failed = e instanceof IOException io ? io : new IOException(e.getMessage(), e);
    }
    // Every step has run (or been dropped) before the caller may remove the directory.
    IOException writing = writer.finish();
    if (failed != null) {
      throw failed;
    }
    if (writing != null) {
      throw writing;
    }
    return files;
  }

  /** In slices of 8 KB: the JDK copies a larger write through a native buffer of the write's size (see above). */
  private static void write(Path file, byte[] content) throws IOException {
    Files.deleteIfExists(file);
    try (OutputStream out = new FileOutputStream(file.toFile())) {
      for (int off = 0; off < content.length; off += WRITE_SLICE) {
        out.write(content, off, Math.min(WRITE_SLICE, content.length - off));
      }
    }
  }

  /** A file-system step of the unpacking. */
  private interface Step {
    void run() throws IOException;
  }

  /**
   * Runs the steps in archive order on one thread of its own, while the next entries are decoded: decoding (~1 s for
   * the archive's 58 MB) and writing (~0.5 s) overlap. At most {@link #IN_FLIGHT} bytes of content wait for it.
   */
  private static final class Writer {
    private static final int IN_FLIGHT = 32 << 20;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "flowgate-pg-unpack");
      t.setDaemon(true);
      return t;
    });
    private final Semaphore room = new Semaphore(IN_FLIGHT);
    private final AtomicReference<IOException> failure = new AtomicReference<>();

    void submit(int bytes, Step step) throws IOException {
      int permits = Math.max(1, Math.min(bytes, IN_FLIGHT));
      try {
        room.acquire(permits);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while unpacking", e);
      }
      thread.execute(() -> {
        try {
          if (failure.get() == null) {
            step.run();
          }
        } catch (IOException | RuntimeException e) {
          failure.compareAndSet(null, e instanceof IOException io ? io : new IOException(e.getMessage(), e));
        } finally {
          room.release(permits);
        }
      });
    }

    /** Throws the first failure of a step so far. */
    void check() throws IOException {
      IOException e = failure.get();
      if (e != null) {
        throw e;
      }
    }

    /** Waits for every submitted step; the first failure, or null. */
    IOException finish() {
      thread.shutdown();
      try {
        if (!thread.awaitTermination(5, TimeUnit.MINUTES)) {
          thread.shutdownNow();
          return new IOException("writing the unpacked files did not finish in 5 minutes");
        }
      } catch (InterruptedException e) {
        thread.shutdownNow();
        Thread.currentThread().interrupt();
        return new IOException("interrupted while unpacking", e);
      }
      return failure.get();
    }
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
