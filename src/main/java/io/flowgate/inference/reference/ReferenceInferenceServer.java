package io.flowgate.inference.reference;

import io.flowgate.config.LogbackConfigurator;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reference inference server (DESIGN §3.2): a real small model, the iris classifier of {@link IrisModel}, behind
 * both protocols of DESIGN §1.4, for demos, tests and benchmarks. It listens at once (liveness answers), trains its
 * model on a thread of its own and becomes ready when the model is trained and {@code --boot-seconds} have passed;
 * until then predictions and readiness answer 503 with {@code Retry-After}.
 *
 * <p>{@link #main} is the {@code reference-inference} subcommand; {@link #start} runs it in-process (tests).
 * Thread-safe: the instance only holds its Vert.x, state and port.
 */
public final class ReferenceInferenceServer {
  private final Vertx vertx;
  private final BootState state;
  private final String host;
  private final int port;
  private final Future<IrisModel> ready;

  private ReferenceInferenceServer(Vertx vertx, BootState state, String host, int port, Future<IrisModel> ready) {
    this.vertx = vertx;
    this.state = state;
    this.host = host;
    this.port = port;
    this.ready = ready;
  }

  /** The {@code reference-inference} subcommand: parse, start, log the ready line, stop on SIGTERM. Main thread. */
  public static void main(String[] args) {
    if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println(ReferenceOptions.USAGE);
      return;
    }
    ReferenceOptions options;
    try {
      options = ReferenceOptions.parse(Arrays.asList(args), System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("flowgate reference-inference: " + e.getMessage());
      System.err.println(ReferenceOptions.USAGE);
      System.exit(2);
      return;
    }
    // Chosen before the first logger exists: config/LogbackConfigurator picks the appender from this property.
    if (System.getProperty(LogbackConfigurator.APPENDER_PROPERTY) == null) {
      System.setProperty(LogbackConfigurator.APPENDER_PROPERTY,
          "true".equalsIgnoreCase(System.getenv("FLOWGATE_LOGGING_JSON")) ? "JSON" : "TEXT");
    }
    Logger log = LoggerFactory.getLogger(ReferenceInferenceServer.class);
    start(options)
        .onSuccess(server -> {
          Runtime.getRuntime().addShutdownHook(new Thread(() -> server.stop(log), "reference-inference-shutdown"));
          server.ready().onFailure(e -> {
            log.error("the iris model could not be trained: {}", e.toString());
            // Not on the event loop: exit runs the shutdown hook, which waits for Vert.x to close.
            new Thread(() -> System.exit(1), "reference-inference-exit").start();
          });
        })
        .onFailure(e -> {
          log.error("reference inference server failed to start on {}:{}: {}", options.host(), options.port(),
              e.getMessage() == null ? e.toString() : e.getMessage());
          System.exit(1);
        });
  }

  /**
   * Starts a server: Vert.x with one event loop per instance, the HTTP verticles, and the model's training on a
   * thread of its own. Completes once it listens (not yet ready; see {@link #ready()}). Logs the ready line when ready.
   */
  public static Future<ReferenceInferenceServer> start(ReferenceOptions options) {
    long started = System.nanoTime();
    Logger log = LoggerFactory.getLogger(ReferenceInferenceServer.class);
    Vertx vertx = Vertx.builder()
        .with(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(options.instances()))
        .build();
    BootState state = new BootState(started, options.boot().toNanos());
    AtomicInteger bound = new AtomicInteger();

    Promise<IrisModel> ready = Promise.promise();
    train(vertx.getOrCreateContext())
        .onFailure(ready::fail)
        .onSuccess(model -> {
          state.modelTrained(model);
          long nanosLeft = state.bootNanosLeft();
          if (nanosLeft <= 0) {
            ready.complete(model);
          } else {
            // One millisecond late rather than early: the timer must find the boot time passed.
            vertx.setTimer(TimeUnit.NANOSECONDS.toMillis(nanosLeft) + 1, id -> ready.complete(model));
          }
        });

    return vertx.deployVerticle(() -> new ReferenceInferenceVerticle(state, options.host(), options.port(), bound),
            new DeploymentOptions().setInstances(options.instances()))
        .map(id -> {
          ReferenceInferenceServer server = new ReferenceInferenceServer(vertx, state, options.host(), bound.get(),
              ready.future().map(model -> {
                state.readyModel();
                return model;
              }));
          log.info("reference inference server listening at {} (booting: training model {}; ready in {} s at the "
              + "earliest)", server.url(), IrisModel.NAME, String.format(Locale.ROOT, "%.1f",
              options.boot().toNanos() / 1e9));
          server.ready().onSuccess(model -> log.info(
              "reference inference server ready at {} (model {}, accuracy {}, boot {} ms)", server.url(),
              IrisModel.NAME, String.format(Locale.ROOT, "%.2f", model.accuracy()),
              TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
          return server;
        })
        .recover(e -> vertx.close().transform(closed -> Future.failedFuture(e)));
  }

  /**
   * Trains the model on a thread of its own and hands the result to {@code context}. Not Vert.x's worker pool: a
   * server closed while its model trains must not fail the training's hand-over (a closed Vert.x refuses it with
   * {@code RejectedExecutionException}); such a result is dropped, as nobody waits for it.
   */
  private static Future<IrisModel> train(Context context) {
    Promise<IrisModel> trained = Promise.promise();
    Thread thread = new Thread(() -> {
      IrisModel model = null;
      Throwable failure = null;
      try {
        model = IrisModel.train();
      } catch (RuntimeException | Error e) {
        failure = e;
      }
      IrisModel result = model;
      Throwable error = failure;
      try {
        context.runOnContext(v -> {
          if (error == null) {
            trained.complete(result);
          } else {
            trained.fail(error);
          }
        });
      } catch (RejectedExecutionException closed) {
        // Closed while training: the result has no one to go to.
      }
    }, "reference-inference-training");
    thread.setDaemon(true);
    thread.start();
    return trained.future();
  }

  /** The port it listens on (the real one when started with port 0). */
  public int port() {
    return port;
  }

  /** Its base URL, {@code http://HOST:PORT/} (loopback when bound to every interface). */
  public String url() {
    String shown = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
    if (shown.indexOf(':') >= 0) {
      shown = "[" + shown + "]";
    }
    return "http://" + shown + ":" + port + "/";
  }

  /** Completes when the server is ready (model trained, boot time passed); fails if training failed. */
  public Future<IrisModel> ready() {
    return ready;
  }

  /** Whether it answers predictions now. */
  public boolean isReady() {
    return state.readyModel() != null;
  }

  /** Stops listening and closes Vert.x. */
  public Future<Void> close() {
    return vertx.close();
  }

  /** The shutdown hook: close, waiting at most 10 s. Blocks the hook thread. */
  private void stop(Logger log) {
    log.info("reference inference server stopping");
    CountDownLatch done = new CountDownLatch(1);
    close().onComplete(ar -> done.countDown());
    try {
      if (!done.await(10, TimeUnit.SECONDS)) {
        log.warn("stop took too long; exiting anyway");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
