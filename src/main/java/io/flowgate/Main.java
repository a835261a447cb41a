package io.flowgate;

import io.flowgate.backends.BackendStartException;
import io.flowgate.backends.EmbeddedBackends;
import io.flowgate.config.ConfigException;
import io.flowgate.config.ConfigLoader;
import io.flowgate.config.GatewayConfig;
import io.flowgate.config.LogbackConfigurator;
import io.flowgate.inference.reference.ReferenceInferenceServer;
import io.flowgate.metrics.HttpServerMeters;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry point: load the configuration, start the embedded Redis and PostgreSQL when no URL is given, build Vert.x
 * with metrics, start the {@link Gateway}, and stop all of it in order on SIGTERM. Runs on the main thread.
 */
public final class Main {
  private Main() {
  }

  public static void main(String[] args) {
    if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println("usage: java -jar flowgate.jar            start a gateway node (conf/flowgate.yaml, "
          + "FLOWGATE_* env)");
      System.out.println("       java -jar flowgate.jar reference-inference --port N [--boot-seconds S] [--host H]"
          + "   the reference iris inference server (--help for more)");
      return;
    }
    if (args.length > 0 && args[0].equals("reference-inference")) {
      ReferenceInferenceServer.main(Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    if (args.length > 0) {
      System.err.println("flowgate: unknown command '" + args[0] + "'; run with --help for usage");
      System.exit(2);
    }
    // The heap's committed size before starting: -Xms unless the flags say otherwise.
    long initialHeap = Runtime.getRuntime().totalMemory();
    // Set before anything does channel I/O (the JDK reads it once): a write of a heap buffer to a channel goes through a
    // temporary direct buffer as large as the write, which the writing thread keeps, whatever its size, when this is
    // unset. Unpacking the embedded PostgreSQL writes whole files at once from a pool of threads that live on, which
    // kept 33 MB of direct memory (NMT "Other") resident for the life of the process; larger writes now free theirs.
    if (System.getProperty("jdk.nio.maxCachedBufferSize") == null) {
      System.setProperty("jdk.nio.maxCachedBufferSize", "262144");
    }
    // Vert.x's per-task context timings feed only its blocked-thread report; they cost every task two clock reads.
    if (System.getProperty("vertx.disableContextTimings") == null) {
      System.setProperty("vertx.disableContextTimings", "true");
    }
    Map<String, String> env = System.getenv();
    GatewayConfig config;
    try {
      config = ConfigLoader.load(Path.of(env.getOrDefault("FLOWGATE_CONFIG", "conf/flowgate.yaml")), env);
    } catch (ConfigException e) {
      System.err.println("flowgate: " + e.getMessage());
      System.exit(2);
      return;
    }
    // Chosen before the first logger exists: config/LogbackConfigurator picks the appender from this property.
    System.setProperty(LogbackConfigurator.APPENDER_PROPERTY, config.logging().json() ? "JSON" : "TEXT");
    Logger log = LoggerFactory.getLogger(Main.class);
    long started = System.nanoTime();

    EmbeddedBackends embedded = null;
    if (config.redis().embedded() || config.pg().embedded()) {
      try {
        embedded = EmbeddedBackends.start(config.data().dir().toAbsolutePath(), config.pg().embedded(),
            config.redis().embedded());
      } catch (BackendStartException e) {
        log.error("cannot start the embedded backends: {}", e.getMessage());
        System.exit(1);
        return;
      }
      config = config.withBackends(
          config.redis().embedded() ? embedded.redisUrl() : config.redis().url(),
          config.pg().embedded() ? embedded.pgUrl() : config.pg().url());
    }
    if (!config.admin().enabled()) {
      log.warn("FLOWGATE_ADMIN_TOKEN is not set: the control plane (/api/v1) refuses every call until it is");
    }

    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = newVertx(registry);
    EmbeddedBackends toStop = embedded;
    GatewayConfig running = config;
    Gateway.start(vertx, running, registry)
        .onSuccess(gateway -> {
          Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(gateway, vertx, toStop, running, log),
              "flowgate-shutdown"));
          // Starting (unpacking the embedded servers, migrations, class loading) can leave the heap grown to several
          // times what serving keeps live: one full collection now lets it shrink back (the heap-free ratios of
          // conf/jvm.options) instead of staying resident. One pause of 40-110 ms (GC log), before the ready line;
          // skipped when the heap has not grown past its initial size (external backends), which it cannot shrink
          // below anyway.
          if (Runtime.getRuntime().totalMemory() > initialHeap) {
            System.gc();
          }
          String host = running.http().host().equals("0.0.0.0") ? "127.0.0.1" : running.http().host();
          log.info("flowgate ready at http://{}:{}/ (node {}, started in {} ms)", host, gateway.port(),
              running.node().id(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        })
        .onFailure(e -> {
          log.error("flowgate failed to start: {}", e.getMessage() == null ? e.toString() : e.getMessage(), e);
          vertx.close().onComplete(x -> {
            if (toStop != null) {
              toStop.close();
            }
            System.exit(1);
          });
        });
  }

  /** The shutdown hook: graceful gateway stop, then Vert.x, then the embedded servers. Blocks the hook thread. */
  private static void stop(Gateway gateway, Vertx vertx, EmbeddedBackends embedded, GatewayConfig config,
      Logger log) {
    long grace = config.http().shutdownGrace().toSeconds();
    log.info("stopping: no new requests; in-flight ones have {} s", grace);
    CountDownLatch done = new CountDownLatch(1);
    gateway.close()
        .eventually(() -> vertx.close())
        .onComplete(ar -> done.countDown());
    try {
      if (!done.await(grace + 20, TimeUnit.SECONDS)) {
        log.warn("stop took too long; exiting anyway");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
  }

  /** Vert.x with Micrometer metrics (Prometheus, HTTP route label, never the raw path) and native transport. */
  public static Vertx newVertx(PrometheusMeterRegistry registry) {
    return Vertx.builder()
        .with(new VertxOptions().setPreferNativeTransport(true).setMetricsOptions(metricsOptions()))
        // vertx-micrometer for everything but the HTTP servers, whose same series flowgate keeps more cheaply.
        .withMetrics(options -> HttpServerMeters.replacingHttpServer(new MicrometerMetricsFactory(registry)
            .metrics(options), registry))
        .build();
  }

  /** vertx-micrometer's settings: which meters, with which labels (HttpServerMeters writes the same labels). */
  public static MicrometerMetricsOptions metricsOptions() {
    return new MicrometerMetricsOptions()
        .setEnabled(true)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
        .addLabels(Label.HTTP_ROUTE, Label.HTTP_METHOD, Label.HTTP_CODE)
        // Client-side HTTP and connection meters were 14% of Fast Mode's CPU (a meter lookup per forwarded request)
        // and duplicate what flowgate.trigger.duration and the Redis/SQL pool meters already say.
        .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT)
        .addDisabledMetricsCategory(MetricsDomain.NET_CLIENT)
        .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS)
        .addDisabledMetricsCategory(MetricsDomain.VERTICLES)
        // Byte counts per socket read and write: 15% of Fast Mode's CPU per request in a back-to-back run (65 -> 55
        // us), for numbers the HTTP request meters and the OS already give.
        .addDisabledMetricsCategory(MetricsDomain.NET_SERVER);
  }
}
