package io.flowgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The class-data archive the build dumps (target/flowgate.jsa) fits the jar beside it under the shipped launch
 * settings, and the JVM takes flowgate's classes from it: {@code -Xshare:on} makes the JVM refuse to start when it
 * cannot use the archive (the shipped {@code -Xshare:auto} would silently start without it). Skipped when the build
 * could not dump one (the build says why), since flowgate then starts without it.
 */
class ClassDataArchiveIT {

  @Test
  void the_shipped_settings_map_the_archive_built_with_the_jar() throws Exception {
    Path jar = Path.of(System.getProperty("flowgate.jar", "target/flowgate.jar"));
    Path archive = jar.resolveSibling("flowgate.jsa");
    assumeTrue(Files.isRegularFile(archive), "no " + archive + ": the build could not dump it (see "
        + jar.resolveSibling("flowgate.jsa.log") + ")");
    // From the repository root, as conf/jvm.options expects; the archive named on the command line for the case of
    // a build directory elsewhere.
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "@conf/jvm.options", "-XX:SharedArchiveFile=" + archive, "-Xshare:on", "-Xlog:class+load=info",
        "-jar", jar.toString(), "--help")
        .redirectErrorStream(true).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("usage: java -jar flowgate.jar")
        .contains("io.flowgate.Main source: shared objects file");
  }
}
