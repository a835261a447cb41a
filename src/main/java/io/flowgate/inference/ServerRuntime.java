package io.flowgate.inference;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.netty.buffer.ByteBuf;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live side of one inference server on this node: pooled keep-alive HTTP clients (one per event loop), its
 * replicas with their states and breakers, readiness checks, load balancing (power of two choices on outstanding
 * requests), the retry budget, the in-flight cap, the requests held by {@code X-Wait-For-Ready}, and, for a launched
 * server, the child processes. A changed definition or wanted state ({@link #update}) is applied in place: requests
 * in flight finish on what they started with, replicas that stay keep their state, and launched processes are
 * restarted only when the launch command changed. {@link #infer} may be called from any event loop; lifecycle work
 * (checks, processes, changes, waking held requests) runs on the server's home context.
 */
final class ServerRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(ServerRuntime.class);
  private static final CharSequence APPLICATION_JSON = HttpHeaders.createOptimized("application/json");
  private static final int MIN_RETRIES = 3;
  private static final long MAX_RESTART_BACKOFF_MS = 30_000;
  private static final long DRAIN_POLL_MS = 50;
  /** Fast Mode's advice in the booting sentence; the {@code inference} node drops it (a flow cannot wait). */
  static final String WAIT_ADVICE = ", or send X-Wait-For-Ready: <seconds> to wait for it";

  /**
   * What one request uses of the server's settings, replaced as a whole by a change: a request reads it once, so it
   * never mixes the timeout, path or clients of two definitions.
   *
   * @param http readiness checks and callers off the event loops
   * @param loopClients the request path's clients, one per event loop, so that a forwarded request, its pooled
   *     upstream connection and the caller's own connection share one thread: no hand-off of the request or its
   *     answer between event loops. {@code pool_size} and {@code pool_wait_queue} are per event loop, like nginx's
   *     {@code keepalive} per worker.
   * @param poolSize connections per replica in each of these clients
   * @param loopPools the request path's own connections for plain-HTTP replicas at an IP address, one
   *     {@link UpstreamPool} per event loop with the same limits, used instead of {@code loopClients} for them
   */
  private record Setup(InferenceServerSpec spec, String predictPath, HttpClientAgent http,
      ConcurrentHashMap<Thread, HttpClientAgent> loopClients, int poolSize,
      ConcurrentHashMap<Thread, UpstreamPool> loopPools) {}

  private final Vertx vertx;
  private final Context home;
  private final InferenceSettings settings;
  private final UpstreamJson json;
  private final MultiMap postHeaders;
  private volatile Setup setup;
  private volatile Replica[] replicas;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger held = new AtomicInteger();
  private final AtomicInteger activeRetries = new AtomicInteger();
  private final ConcurrentLinkedQueue<Waiter> waiters = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean launchWanted = new AtomicBoolean();
  private final AtomicBoolean launchScheduled = new AtomicBoolean();
  private final Promise<Void> firstCheck = Promise.promise();
  /** Completes once the current replicas have been checked (the first round, or the new ones after a change). */
  private volatile Future<Void> checked = firstCheck.future();
  private volatile long lastTrafficNanos = System.nanoTime();
  private volatile boolean adminStopped;
  private volatile boolean closed;
  private volatile long observedBootMillis = -1;
  private long timerId = -1;
  // Home context only: replicas and clients a change took out of service, closed once their requests are done.
  private final List<Replica> retiring = new ArrayList<>();
  private final List<Setup> retiredClients = new ArrayList<>();

  ServerRuntime(Vertx vertx, Context home, InferenceServerSpec spec, InferenceSettings settings) {
    this.vertx = vertx;
    this.settings = settings;
    this.home = home;
    this.json = new UpstreamJson(settings.maxResponseBytes());
    this.postHeaders = HttpHeaders.headers().add(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON)
        .add(HttpHeaders.ACCEPT, APPLICATION_JSON);
    int poolSize = poolSize(spec);
    this.setup = new Setup(spec, predictPath(spec), newClient(poolSize), new ConcurrentHashMap<>(), poolSize,
        new ConcurrentHashMap<>());
    this.adminStopped = spec.stopped();
    int count = spec.launched() ? spec.launch().replicas() : spec.replicas().size();
    Replica[] initial = new Replica[count];
    for (int i = 0; i < count; i++) {
      initial[i] = newReplica(spec, i, spec.launched() ? null : spec.replicas().get(i));
    }
    this.replicas = initial;
    home.runOnContext(v -> {
      if (closed) {
        return;
      }
      timerId = vertx.setPeriodic(settings.healthInterval().toMillis(), id -> tick());
      Future.join(checkAll()).onComplete(ar -> firstCheck.tryComplete());
    });
    if (spec.launched()) {
      firstCheck.tryComplete();
    }
  }

  /** The definition and wanted state this runtime runs now. */
  InferenceServerSpec spec() {
    return setup.spec();
  }

  private int poolSize(InferenceServerSpec spec) {
    return Math.min(settings.poolSize(), spec.maxInFlight());
  }

  private static String predictPath(InferenceServerSpec spec) {
    return spec.protocol() == Protocol.OPEN_INFERENCE_V2 ? OpenInference.inferPath(spec.model()) : spec.predictPath();
  }

  private HttpClientAgent newClient(int poolSize) {
    return vertx.createHttpClient(new HttpClientOptions()
            .setKeepAlive(true)
            .setKeepAliveTimeout(60)
            .setTcpNoDelay(true)
            .setConnectTimeout((int) settings.connectTimeout().toMillis())
            .setMaxRedirects(0),
        new PoolOptions().setHttp1MaxSize(poolSize).setMaxWaitQueueSize(settings.poolWaitQueue()));
  }

  /**
   * This event loop's client (created on first use), or the shared one for a caller that is not on an event loop; of
   * the current setup, so that a client a change replaced only finishes the exchanges it already carries.
   */
  private HttpClientAgent client() {
    Setup s = setup;
    Context context = Vertx.currentContext();
    if (context == null || !context.isEventLoopContext() || closed) {
      return s.http();
    }
    Thread loop = Thread.currentThread();
    HttpClientAgent client = s.loopClients().get(loop);
    if (client == null) {
      client = s.loopClients().computeIfAbsent(loop, t -> newClient(s.poolSize()));
    }
    return client;
  }

  /**
   * This event loop's {@link UpstreamPool} of setup {@code s} for {@code endpoint}, or null where the Vert.x client
   * serves instead: off an event loop, after close, for TLS or a host name.
   */
  private UpstreamPool pool(Setup s, Replica.Endpoint endpoint) {
    Context context = Vertx.currentContext();
    if (context == null || !context.isEventLoopContext() || closed || !UpstreamPool.serves(endpoint)) {
      return null;
    }
    Thread loop = Thread.currentThread();
    UpstreamPool pool = s.loopPools().get(loop);
    if (pool == null) {
      pool = s.loopPools().computeIfAbsent(loop, t -> new UpstreamPool((VertxInternal) vertx,
          ((ContextInternal) context).nettyEventLoop(), s.poolSize(), settings.poolWaitQueue(),
          (int) settings.connectTimeout().toMillis()));
    }
    return pool.inLoop() ? pool : null;
  }

  /** Whether a request has gone over this runtime's own connections ({@link UpstreamPool}) (tests). */
  boolean usedOwnConnections() {
    return !setup.loopPools().isEmpty();
  }

  /** A replica of {@code spec}: launched ones start stopped, fixed ones booting until checked (stopped if stopped). */
  private Replica newReplica(InferenceServerSpec spec, int index, String url) {
    CircuitBreaker breaker = CircuitBreaker.create("inference-" + spec.id() + "-" + index, vertx,
        new CircuitBreakerOptions()
            .setMaxFailures(settings.breakerFailures())
            .setFailuresRollingWindow(settings.breakerWindow().toMillis())
            .setResetTimeout(settings.breakerReset().toMillis())
            .setTimeout(-1)
            .setNotificationAddress(null))
        // A booting 503, a refused input (4xx) or a full local pool say nothing about the replica's health.
        .failurePolicy(f -> f.failed() && !(f.cause() instanceof UpstreamFailure uf && !uf.breakerFailure()));
    if (url == null || adminStopped) {
      return new Replica(index, url == null ? null : Replica.Endpoint.of(url), ReplicaState.STOPPED, breaker);
    }
    Replica replica = new Replica(index, Replica.Endpoint.of(url), ReplicaState.BOOTING, breaker);
    replica.bootStartedNanos = System.nanoTime();
    return replica;
  }

  /** Completes when the readiness of the current replicas has been checked once, so that they do not read "booting". */
  Future<Void> firstCheck() {
    return checked;
  }

  // ---- the request path ------------------------------------------------------------------------------------------

  /**
   * Forwards {@code inputData} to a ready replica. With {@code waitSeconds} above 0 a request that finds no ready
   * replica waits (bounded) for one instead of failing at once.
   */
  Future<InferenceResult> infer(JsonObject inputData, int waitSeconds) {
    return send(new Input(inputData, null), waitSeconds);
  }

  /**
   * As {@link #infer(JsonObject, int)} for {@code inputJson}, the bytes of a JSON object already checked by the
   * caller: a passthrough server gets them as they are, with no parse and no re-encoding.
   */
  Future<InferenceResult> inferBytes(Buffer inputJson, int waitSeconds) {
    return send(new Input(null, inputJson), waitSeconds);
  }

  private Future<InferenceResult> send(Input input, int waitSeconds) {
    Setup s = setup;
    Buffer body;
    try {
      body = input.encodeFor(s.spec());
    } catch (GatewayException e) {
      return Future.failedFuture(e);
    }
    lastTrafficNanos = System.nanoTime();
    long deadline = waitSeconds > 0 ? System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds) : 0;
    return attempt(s, input, body, deadline);
  }

  /**
   * A request's {@code input_data}, as an object or as the bytes of one; kept by a held request, which may go out
   * under another protocol than the one it arrived under.
   */
  private record Input(JsonObject object, Buffer bytes) {
    Buffer encodeFor(InferenceServerSpec spec) {
      if (spec.protocol() == Protocol.OPEN_INFERENCE_V2) {
        return OpenInference.request(object != null ? object : new JsonObject(bytes));
      }
      return bytes != null ? bytes : object.toBuffer();
    }
  }

  private Future<InferenceResult> attempt(Setup s, Input input, Buffer body, long waitDeadline) {
    InferenceServerSpec spec = s.spec();
    if (closed) {
      return Future.failedFuture(new GatewayException(ErrorCode.INFERENCE_UNAVAILABLE, "The inference server "
          + spec.id() + " was removed; point the deployment at another server."));
    }
    if (adminStopped) {
      // A stopped server does not come back by itself: the Retry-After only paces clients that retry blindly.
      return Future.failedFuture(GatewayException.retryAfter(ErrorCode.INFERENCE_UNAVAILABLE, "The inference server '"
          + spec.name() + "' is stopped; start it with POST /api/v1/inference-servers/" + spec.id() + "/start.",
          30));
    }
    Replica replica = pick(null);
    if (replica == null) {
      demand();
      if (waitDeadline != 0 && waitDeadline - System.nanoTime() > 0) {
        return hold(s, input, body, waitDeadline);
      }
      return Future.failedFuture(noReplica(spec));
    }
    if (inFlight.incrementAndGet() > spec.maxInFlight()) {
      inFlight.decrementAndGet();
      return Future.failedFuture(GatewayException.retryAfter(ErrorCode.INFERENCE_UNAVAILABLE, "The inference server '"
          + spec.name() + "' already has " + spec.maxInFlight() + " requests in flight (its max_in_flight); retry in "
          + "about 1 second.", 1));
    }
    return forward(s, replica, body, false).andThen(ar -> inFlight.decrementAndGet());
  }

  /** Power of two choices over eligible replicas, by outstanding requests; {@code except} is skipped. */
  private Replica pick(Replica except) {
    Replica[] all = replicas;
    int eligible = 0;
    for (Replica r : all) {
      if (r != except && r.eligible()) {
        eligible++;
      }
    }
    if (eligible == 0) {
      return null;
    }
    if (eligible == 1) {
      for (Replica r : all) {
        if (r != except && r.eligible()) {
          return r;
        }
      }
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int a = random.nextInt(eligible);
    int b = random.nextInt(eligible - 1);
    if (b >= a) {
      b++;
    }
    Replica first = null;
    Replica second = null;
    int n = 0;
    for (Replica r : all) {
      if (r != except && r.eligible()) {
        if (n == a) {
          first = r;
        } else if (n == b) {
          second = r;
        }
        n++;
      }
    }
    if (first == null || second == null) {
      return first != null ? first : second;
    }
    return second.outstanding.get() < first.outstanding.get() ? second : first;
  }

  private Future<InferenceResult> forward(Setup s, Replica replica, Buffer body, boolean retried) {
    replica.outstanding.incrementAndGet();
    Future<InferenceResult> result = replica.breaker.execute(() -> new Exchange(s, replica, body).start());
    return result
        .andThen(ar -> replica.outstanding.decrementAndGet())
        .recover(e -> {
          if (e instanceof UpstreamFailure uf) {
            passiveCheck(s.spec(), replica, uf);
          }
          boolean retriable = e instanceof OpenCircuitException
              || e instanceof UpstreamFailure uf && (uf.kind() == UpstreamFailure.Kind.CONNECT
                  || uf.kind() == UpstreamFailure.Kind.POOL_BUSY || uf.kind() == UpstreamFailure.Kind.CLOSED);
          if (retriable && !retried) {
            Replica other = pick(replica);
            if (other == null && e instanceof UpstreamFailure uf && uf.kind() == UpstreamFailure.Kind.CLOSED
                && replica.eligible()) {
              // A keep-alive connection the replica closed as the request went out (an idle timeout racing the
              // reuse): with no other replica, the same one is tried again, on another connection.
              other = replica;
            }
            // Retry budget (Envoy, SRE book): retries at most 10% of the requests in flight, with a small floor.
            if (other != null && activeRetries.get() < Math.max(MIN_RETRIES, inFlight.get() / 10)) {
              activeRetries.incrementAndGet();
              if (other != replica) {
                return forward(s, other, body, true).andThen(ar -> activeRetries.decrementAndGet());
              }
              // On the same replica, a moment later: the pool has let go of the closed connection by then.
              Replica same = other;
              Promise<InferenceResult> again = Promise.promise();
              vertx.setTimer(1, t -> forward(s, same, body, true).onComplete(again));
              return again.future().andThen(ar -> activeRetries.decrementAndGet());
            }
          }
          return Future.failedFuture(answer(s.spec(), e));
        });
  }

  /** Passive failure detection: a refused connection or a booting 503 changes the replica's state at once. */
  private void passiveCheck(InferenceServerSpec spec, Replica replica, UpstreamFailure failure) {
    if (failure.kind() == UpstreamFailure.Kind.CONNECT && replica.state == ReplicaState.READY) {
      replica.setState(spec.launched() && replica.process != null ? ReplicaState.BOOTING : ReplicaState.UNAVAILABLE,
          failure.getMessage());
    } else if (failure.kind() == UpstreamFailure.Kind.BOOTING && replica.state == ReplicaState.READY) {
      replica.bootStartedNanos = System.nanoTime();
      replica.setState(ReplicaState.BOOTING, failure.getMessage());
    }
  }

  /** The problem a failed forward answers with. */
  private GatewayException answer(InferenceServerSpec spec, Throwable e) {
    if (e instanceof GatewayException ge) {
      return ge;
    }
    if (e instanceof OpenCircuitException) {
      int seconds = secondsCeil(settings.breakerReset().toMillis());
      return GatewayException.retryAfter(ErrorCode.INFERENCE_UNAVAILABLE, "The inference server '" + spec.name()
          + "' failed repeatedly and its circuit is open; retry in about " + seconds + " seconds.", seconds);
    }
    if (e instanceof UpstreamFailure uf) {
      return switch (uf.kind()) {
        case CONNECT -> {
          int seconds = secondsCeil(settings.healthInterval().toMillis());
          yield GatewayException.retryAfter(ErrorCode.INFERENCE_UNAVAILABLE, "flowgate could not connect to the "
              + "inference server '" + spec.name() + "' (" + uf.getMessage() + "); retry in about " + seconds
              + " seconds.", seconds);
        }
        case POOL_BUSY -> GatewayException.retryAfter(ErrorCode.INFERENCE_UNAVAILABLE, "The inference server '"
            + spec.name() + "' has no free connection and too many requests waiting for one; retry in about 1 "
            + "second.", 1);
        case TIMEOUT -> new GatewayException(ErrorCode.INFERENCE_TIMEOUT, "The inference server '" + spec.name()
            + "' did not answer within " + spec.timeoutMs() + " ms; retry later, or raise its timeout_ms.");
        case BOOTING -> {
          int seconds = bootRetrySeconds(replicas);
          yield GatewayException.retryAfter(ErrorCode.INFERENCE_BOOTING, "The inference server '" + spec.name()
              + "' is still booting; retry in about " + seconds + " seconds.", seconds);
        }
        default -> new GatewayException(ErrorCode.INFERENCE_ERROR, "The inference server '" + spec.name()
            + "' failed: " + uf.getMessage() + ".");
      };
    }
    return new GatewayException(ErrorCode.INFERENCE_ERROR, "The inference server '" + spec.name() + "' failed: "
        + e.getMessage() + ".");
  }

  /** 503 when no replica is ready: booting (with the boot's expected remaining time) or unavailable. */
  private GatewayException noReplica(InferenceServerSpec spec) {
    Replica[] all = replicas;
    boolean booting = false;
    long restartIn = Long.MAX_VALUE;
    long now = System.currentTimeMillis();
    for (Replica r : all) {
      ReplicaState s = r.effectiveState();
      booting |= s == ReplicaState.BOOTING;
      if (r.restartAtMillis > now) {
        restartIn = Math.min(restartIn, r.restartAtMillis - now);
      }
    }
    if (booting || spec.launched() && launchWanted.get() && restartIn == Long.MAX_VALUE) {
      int seconds = bootRetrySeconds(all);
      return GatewayException.retryAfter(ErrorCode.INFERENCE_BOOTING, "The inference server '" + spec.name()
          + "' is booting; retry in about " + seconds + " seconds" + WAIT_ADVICE + ".", seconds);
    }
    int seconds = restartIn != Long.MAX_VALUE ? secondsCeil(restartIn + estimatedBootMillis())
        : secondsCeil(Math.max(settings.healthInterval().toMillis(), settings.breakerReset().toMillis()));
    return GatewayException.retryAfter(ErrorCode.INFERENCE_UNAVAILABLE, "No replica of the inference server '"
        + spec.name() + "' is available (" + firstError(all) + "); retry in about " + seconds + " seconds.", seconds);
  }

  private static String firstError(Replica[] all) {
    for (Replica r : all) {
      if (r.lastError != null) {
        return r.lastError;
      }
    }
    return "every replica is failing";
  }

  private long estimatedBootMillis() {
    long observed = observedBootMillis;
    return observed > 0 ? observed : settings.bootEstimate().toMillis();
  }

  /** Retry-After for a boot: the expected boot time minus the time the most advanced boot has run, 1..60 s. */
  private int bootRetrySeconds(Replica[] all) {
    long now = System.nanoTime();
    long elapsed = 0;
    for (Replica r : all) {
      long started = r.bootStartedNanos;
      if (started != 0) {
        elapsed = Math.max(elapsed, TimeUnit.NANOSECONDS.toMillis(now - started));
      }
    }
    return (int) Math.min(60, Math.max(1, secondsCeil(estimatedBootMillis() - elapsed)));
  }

  private static int secondsCeil(long millis) {
    return (int) Math.max(1, (millis + 999) / 1000);
  }

  // ---- held requests (X-Wait-For-Ready) --------------------------------------------------------------------------

  /** A request waiting for a ready replica; completed once, by the wake-up or by its timer. */
  private final class Waiter {
    final Input input;
    final Buffer body;
    final Protocol encodedFor;
    final long deadline;
    final Promise<InferenceResult> promise;
    final Context context;
    final AtomicBoolean done = new AtomicBoolean();
    long timer;

    Waiter(Input input, Buffer body, Protocol encodedFor, long deadline, Context context) {
      this.input = input;
      this.body = body;
      this.encodedFor = encodedFor;
      this.deadline = deadline;
      this.context = context;
      this.promise = Promise.promise();
    }
  }

  private Future<InferenceResult> hold(Setup s, Input input, Buffer body, long deadline) {
    if (held.incrementAndGet() > settings.maxHeldPerServer()) {
      held.decrementAndGet();
      return Future.failedFuture(noReplica(s.spec()));
    }
    Context context = Vertx.currentContext() != null ? Vertx.currentContext() : home;
    Waiter waiter = new Waiter(input, body, s.spec().protocol(), deadline, context);
    long remainingMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    context.runOnContext(v -> waiter.timer = vertx.setTimer(remainingMs, t -> {
      if (waiter.done.compareAndSet(false, true)) {
        waiters.remove(waiter);
        held.decrementAndGet();
        waiter.promise.fail(noReplica(setup.spec()));
      }
    }));
    waiters.add(waiter);
    if (pick(null) != null || closed) {
      // A replica became ready between the check and the enqueue: do not wait for the next transition.
      wakeWaiters();
    }
    return waiter.promise.future();
  }

  /** Lets every held request try again; each re-checks on its own context. */
  private void wakeWaiters() {
    Waiter waiter;
    while ((waiter = waiters.poll()) != null) {
      Waiter w = waiter;
      if (w.done.compareAndSet(false, true)) {
        held.decrementAndGet();
        w.context.runOnContext(v -> {
          vertx.cancelTimer(w.timer);
          // The server may have changed while the request waited: it goes out under the settings of now.
          Setup s = setup;
          Buffer body = w.body;
          if (s.spec().protocol() != w.encodedFor) {
            try {
              body = w.input.encodeFor(s.spec());
            } catch (GatewayException e) {
              w.promise.fail(e);
              return;
            }
          }
          attempt(s, w.input, body, w.deadline).onComplete(w.promise);
        });
      }
    }
  }

  /** The number of requests waiting for a replica now. */
  int heldCount() {
    return held.get();
  }

  // ---- one exchange ----------------------------------------------------------------------------------------------

  /** One request to one replica under one deadline, as a single callback chain. Confined to the caller's context. */
  private final class Exchange {
    /** The settings the exchange started under: its timeout, path and protocol do not change under it. */
    private final Setup startedWith;
    private final Replica replica;
    private final Buffer body;
    private final Promise<InferenceResult> promise = Promise.promise();
    private long timer = -1;
    private HttpClientRequest request;
    private UpstreamPool.Connection connection;
    private Buffer received;

    Exchange(Setup startedWith, Replica replica, Buffer body) {
      this.startedWith = startedWith;
      this.replica = replica;
      this.body = body;
    }

    Future<InferenceResult> start() {
      Replica.Endpoint endpoint = replica.endpoint;
      if (endpoint == null) {
        return Future.failedFuture(new UpstreamFailure(UpstreamFailure.Kind.CONNECT, "the replica is not running"));
      }
      int timeoutMs = startedWith.spec().timeoutMs();
      timer = vertx.setTimer(timeoutMs, id -> fail(new UpstreamFailure(UpstreamFailure.Kind.TIMEOUT,
          "no answer within " + timeoutMs + " ms")));
      UpstreamPool pool = pool(startedWith, endpoint);
      if (pool != null) {
        pool.acquire(endpoint, new Raw(endpoint));
        return promise.future();
      }
      RequestOptions options = new RequestOptions()
          .setMethod(HttpMethod.POST)
          .setHost(endpoint.host())
          .setPort(endpoint.port())
          .setSsl(endpoint.ssl())
          .setURI(endpoint.basePath() + startedWith.predictPath())
          .setHeaders(postHeaders);
      client().request(options).onComplete(ar -> {
        if (ar.failed()) {
          Throwable cause = ar.cause();
          fail(cause instanceof ConnectionPoolTooBusyException
              ? new UpstreamFailure(UpstreamFailure.Kind.POOL_BUSY, "connection pool and wait queue full")
              : new UpstreamFailure(UpstreamFailure.Kind.CONNECT, "cannot connect to " + endpoint.url() + ": "
                  + messageOf(cause)));
          return;
        }
        request = ar.result();
        if (promise.future().isComplete()) {
          request.reset();
          return;
        }
        request.send(body).onComplete(r -> {
          if (r.failed()) {
            fail(new UpstreamFailure(UpstreamFailure.Kind.CLOSED, "the connection closed before the answer ("
                + messageOf(r.cause()) + ")"));
          } else {
            onResponse(r.result());
          }
        });
      });
      return promise.future();
    }

    /** The exchange over this event loop's own connections ({@link UpstreamPool}): the same steps, as callbacks. */
    private final class Raw implements UpstreamPool.Lease, UpstreamPool.Exchange {
      private final Replica.Endpoint endpoint;
      private int status;

      Raw(Replica.Endpoint endpoint) {
        this.endpoint = endpoint;
      }

      @Override
      public void leased(UpstreamPool.Connection connection) {
        if (promise.future().isComplete()) {
          connection.release(true);
          return;
        }
        Exchange.this.connection = connection;
        connection.send(endpoint.basePath() + startedWith.predictPath(), body, this);
      }

      @Override
      public void failed(Throwable cause) {
        fail(cause instanceof UpstreamPool.PoolBusy
            ? new UpstreamFailure(UpstreamFailure.Kind.POOL_BUSY, "connection pool and wait queue full")
            : new UpstreamFailure(UpstreamFailure.Kind.CONNECT, "cannot connect to " + endpoint.url() + ": "
                + messageOf(cause)));
      }

      @Override
      public void onHead(int status, long contentLength, boolean keepAlive) {
        this.status = status;
        head(contentLength);
      }

      @Override
      public void onContent(ByteBuf content) {
        if (!promise.future().isComplete() && content.isReadable()) {
          chunk(BufferInternal.buffer(content));
        }
      }

      @Override
      public void onEnd() {
        UpstreamPool.Connection c = connection;
        connection = null;
        if (c != null) {
          c.release(true);
        }
        complete(status);
      }

      @Override
      public void onBroken(Throwable cause, boolean headReceived) {
        connection = null;
        fail(headReceived
            ? new UpstreamFailure(UpstreamFailure.Kind.RESET, "the connection broke in the middle of the answer ("
                + messageOf(cause) + ")")
            : new UpstreamFailure(UpstreamFailure.Kind.CLOSED, "the connection closed before the answer ("
                + messageOf(cause) + ")"));
      }
    }

    /** The answer's head: refused at once when it declares more than the limit, else its body is collected. */
    private void head(long contentLength) {
      if (promise.future().isComplete()) {
        return;
      }
      int max = settings.maxResponseBytes();
      if (contentLength > max) {
        fail(tooLarge(max));
        return;
      }
      received = Buffer.buffer(contentLength >= 0 ? (int) contentLength : 1024);
    }

    private void chunk(Buffer chunk) {
      if (promise.future().isComplete()) {
        return;
      }
      int max = settings.maxResponseBytes();
      if (received.length() + chunk.length() > max) {
        fail(tooLarge(max));
      } else {
        received.appendBuffer(chunk);
      }
    }

    private void onResponse(HttpClientResponse response) {
      if (promise.future().isComplete()) {
        return;
      }
      String length = response.getHeader(HttpHeaders.CONTENT_LENGTH);
      long declared = -1;
      if (length != null) {
        try {
          declared = Long.parseLong(length.trim());
        } catch (NumberFormatException ignored) {
          // Left to the streaming check.
        }
      }
      head(declared);
      if (promise.future().isComplete()) {
        return;
      }
      response.handler(this::chunk);
      response.exceptionHandler(t -> fail(new UpstreamFailure(UpstreamFailure.Kind.RESET,
          "the connection broke in the middle of the answer (" + messageOf(t) + ")")));
      response.endHandler(v -> complete(response.statusCode()));
    }

    private void complete(int status) {
      if (promise.future().isComplete()) {
        return;
      }
      Buffer bodyBytes = received == null ? Buffer.buffer() : received;
      if (status == 503) {
        fail(new UpstreamFailure(UpstreamFailure.Kind.BOOTING, 503, "the replica answered 503 (still booting)"));
        return;
      }
      if (status >= 500) {
        fail(new UpstreamFailure(UpstreamFailure.Kind.STATUS_5XX, status, "it answered HTTP " + status
            + snippet(bodyBytes)));
        return;
      }
      if (status < 200 || status >= 300) {
        fail(new UpstreamFailure(UpstreamFailure.Kind.STATUS_4XX, status, "it refused the input with HTTP " + status
            + snippet(bodyBytes)));
        return;
      }
      InferenceResult result;
      try {
        if (startedWith.spec().protocol() == Protocol.OPEN_INFERENCE_V2) {
          JsonObject output = OpenInference.response(json.object(bodyBytes));
          result = new InferenceResult(output.toBuffer(), output);
        } else {
          result = new InferenceResult(json.passthroughOutput(bodyBytes), null);
        }
      } catch (UpstreamFailure e) {
        fail(e);
        return;
      }
      vertx.cancelTimer(timer);
      promise.tryComplete(result);
    }

    private void fail(UpstreamFailure failure) {
      if (!promise.tryFail(failure)) {
        return;
      }
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
      if (request != null && failure.kind() != UpstreamFailure.Kind.STATUS_4XX
          && failure.kind() != UpstreamFailure.Kind.STATUS_5XX && failure.kind() != UpstreamFailure.Kind.BOOTING
          && failure.kind() != UpstreamFailure.Kind.NOT_JSON) {
        // The exchange is abandoned half-way: closing the connection is the only way to stop the replica's work.
        request.reset();
      }
      UpstreamPool.Connection c = connection;
      if (c != null) {
        connection = null;
        c.abort();
      }
    }
  }

  private static UpstreamFailure tooLarge(int max) {
    return new UpstreamFailure(UpstreamFailure.Kind.TOO_LARGE, "its answer is larger than the limit of " + max
        + " bytes");
  }

  private static String snippet(Buffer body) {
    if (body.length() == 0) {
      return "";
    }
    String text = body.getString(0, Math.min(body.length(), 200)).replaceAll("[\\r\\n\\t]+", " ").trim();
    return text.isEmpty() ? "" : ": " + text;
  }

  private static String messageOf(Throwable t) {
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }

  // ---- readiness checks (home context) ---------------------------------------------------------------------------

  private void tick() {
    if (closed) {
      return;
    }
    if (setup.spec().launched()) {
      superviseProcesses();
    }
    checkAll();
  }

  private List<Future<Void>> checkAll() {
    Replica[] all = replicas;
    List<Future<Void>> checks = new ArrayList<>(all.length);
    if (adminStopped) {
      return checks;
    }
    for (Replica r : all) {
      if (r.endpoint != null && r.state != ReplicaState.STOPPED) {
        checks.add(r.checking ? r.pendingCheck : check(r));
      }
    }
    return checks;
  }

  /** Checks {@code replica}'s readiness once; a replica has at most one check in flight ({@code pendingCheck}). */
  private Future<Void> check(Replica replica) {
    if (replica.checking) {
      return replica.pendingCheck;
    }
    replica.checking = true;
    Setup s = setup;
    Replica.Endpoint endpoint = replica.endpoint;
    String readyPath = s.spec().effectiveReadyPath();
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.GET)
        .setHost(endpoint.host())
        .setPort(endpoint.port())
        .setSsl(endpoint.ssl())
        .setURI(endpoint.basePath() + readyPath)
        .setConnectTimeout(settings.checkTimeout().toMillis())
        .setIdleTimeout(settings.checkTimeout().toMillis());
    Future<Void> done = s.http().request(options)
        .compose(request -> request.send().compose(response -> response.body().map(b -> response.statusCode())))
        .timeout(settings.checkTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .transform(ar -> {
          replica.checking = false;
          if (replica.endpoint != endpoint || closed) {
            return Future.<Void>succeededFuture();
          }
          Setup now = setup;
          if (now.http() != s.http() || !now.spec().effectiveReadyPath().equals(readyPath)) {
            // The server changed during the check (another readiness path, or a retired client): its answer is moot.
            return adminStopped || replica.state == ReplicaState.STOPPED ? Future.<Void>succeededFuture()
                : check(replica);
          }
          if (ar.succeeded()) {
            int status = ar.result();
            if (status >= 200 && status < 300) {
              becameReady(replica);
            } else if (status == 503) {
              booting(replica, "readiness check answered 503 (still booting)");
            } else {
              checkFailed(replica, "readiness check answered HTTP " + status);
            }
          } else if (now.spec().launched() && replica.process != null && replica.process.isAlive()
              && replica.state == ReplicaState.BOOTING) {
            // A launched replica that does not listen yet is still starting.
            replica.lastError = null;
          } else {
            checkFailed(replica, "readiness check failed: " + messageOf(ar.cause()));
          }
          return Future.<Void>succeededFuture();
        });
    if (replica.checking) {
      replica.pendingCheck = done;
    }
    return done;
  }

  /** A ready replica is taken out after two failed checks in a row (one slow answer is not an outage). */
  private void checkFailed(Replica replica, String why) {
    replica.failedChecks++;
    if (replica.state != ReplicaState.READY || replica.failedChecks >= 2) {
      replica.setState(ReplicaState.UNAVAILABLE, why);
    } else {
      replica.lastError = why;
    }
  }

  private void booting(Replica replica, String why) {
    if (replica.bootStartedNanos == 0) {
      replica.bootStartedNanos = System.nanoTime();
    }
    replica.setState(ReplicaState.BOOTING, why);
  }

  private void becameReady(Replica replica) {
    if (replica.state != ReplicaState.READY) {
      long started = replica.bootStartedNanos;
      if (started != 0) {
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        if (took > 0) {
          observedBootMillis = took;
        }
      }
      LOG.debug("inference server {} replica {} is ready", setup.spec().id(), replica.index);
    }
    replica.bootStartedNanos = 0;
    replica.consecutiveCrashes = 0;
    replica.failedChecks = 0;
    replica.setState(ReplicaState.READY, null);
    if (!waiters.isEmpty()) {
      wakeWaiters();
    }
  }

  // ---- launched replicas (home context; process calls on worker threads) -----------------------------------------

  /** A request found nothing ready: a launched server that is not running starts now. */
  private void demand() {
    if (!setup.spec().launched() || adminStopped || closed) {
      return;
    }
    // Set at once, so that this very request is told "booting" rather than "unavailable".
    launchWanted.set(true);
    if (launchScheduled.compareAndSet(false, true)) {
      home.runOnContext(v -> {
        launchScheduled.set(false);
        if (!adminStopped && !closed && setup.spec().launched()) {
          launchWanted.set(true);
          launchMissing();
        }
      });
    }
  }

  /** Starts every replica that has no process and is not waiting out a restart backoff. */
  private void launchMissing() {
    if (closed || adminStopped || !launchWanted.get() || !setup.spec().launched()) {
      return;
    }
    long now = System.currentTimeMillis();
    for (Replica r : replicas) {
      if (r.process == null && !r.stopping && r.restartAtMillis <= now && r.state != ReplicaState.BOOTING) {
        startProcess(r);
      }
    }
  }

  private void startProcess(Replica replica) {
    InferenceServerSpec spec = setup.spec();
    lastTrafficNanos = System.nanoTime();
    replica.bootStartedNanos = System.nanoTime();
    replica.restartAtMillis = 0;
    replica.setState(ReplicaState.BOOTING, null);
    Path logDir = settings.logDir();
    vertx.executeBlocking(() -> {
      int port = freePort();
      ProcessBuilder builder = new ProcessBuilder(spec.launch().command());
      builder.environment().put("PORT", Integer.toString(port));
      builder.redirectErrorStream(true);
      String logFile = null;
      if (logDir != null) {
        Path dir = logDir.resolve("inference");
        Files.createDirectories(dir);
        Path file = dir.resolve(spec.id() + "-" + replica.index + ".log");
        builder.redirectOutput(ProcessBuilder.Redirect.appendTo(file.toFile()));
        logFile = file.toString();
      } else {
        builder.redirectOutput(ProcessBuilder.Redirect.DISCARD);
      }
      builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      return new Started(builder.start(), port, logFile);
    }, false).onComplete(ar -> {
      if (ar.failed()) {
        if (isCurrent(replica)) {
          crashed(replica, "could not start " + spec.launch().command().get(0) + ": " + messageOf(ar.cause()));
        }
        return;
      }
      Started started = ar.result();
      if (closed || adminStopped || !launchWanted.get() || !isCurrent(replica)) {
        // Stopped, closed or replaced by a change while the process was starting.
        destroyLater(started.process());
        replica.setState(ReplicaState.STOPPED, null);
        return;
      }
      replica.process = started.process();
      replica.logFile = started.logFile();
      replica.endpoint = Replica.Endpoint.of("http://127.0.0.1:" + started.port());
      replica.breaker.reset();
      LOG.info("inference server {} replica {} started: pid {} on port {}", spec.id(), replica.index,
          started.process().pid(), started.port());
      Process process = started.process();
      process.onExit().thenAccept(p -> home.runOnContext(v -> exited(replica, process)));
    });
  }

  private record Started(Process process, int port, String logFile) {}

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return socket.getLocalPort();
    }
  }

  /** Whether {@code replica} is one of the server's replicas now (not one a change took out of service). */
  private boolean isCurrent(Replica replica) {
    for (Replica r : replicas) {
      if (r == replica) {
        return true;
      }
    }
    return false;
  }

  private void exited(Replica replica, Process process) {
    if (replica.process != process) {
      return;
    }
    replica.process = null;
    replica.endpoint = null;
    if (replica.stopping || closed || adminStopped || !isCurrent(replica)) {
      replica.stopping = false;
      replica.bootStartedNanos = 0;
      replica.setState(ReplicaState.STOPPED, replica.lastError);
      return;
    }
    boolean wasBooting = replica.state == ReplicaState.BOOTING;
    crashed(replica, "the process exited with code " + process.exitValue()
        + (wasBooting ? " before it became ready" : ""));
  }

  /** A replica that could not start or died: unavailable, restarted after an exponential backoff. */
  private void crashed(Replica replica, String why) {
    replica.restarts++;
    replica.consecutiveCrashes++;
    long backoff = Math.min(MAX_RESTART_BACKOFF_MS, 1000L << Math.min(replica.consecutiveCrashes - 1, 5));
    replica.restartAtMillis = System.currentTimeMillis() + backoff;
    replica.bootStartedNanos = 0;
    replica.endpoint = null;
    replica.setState(ReplicaState.UNAVAILABLE, why + "; restarting in " + secondsCeil(backoff) + " s");
    LOG.warn("inference server {} replica {}: {}", setup.spec().id(), replica.index, replica.lastError);
  }

  /** Restarts crashed replicas when their backoff is over, and stops idle servers. */
  private void superviseProcesses() {
    int idleStop = setup.spec().launch().idleStopSeconds();
    boolean running = false;
    for (Replica r : replicas) {
      running |= r.process != null && !r.stopping;
    }
    // Held requests are traffic too: a server is idle when nobody has asked or waited for idle_stop_seconds.
    if (running && idleStop > 0 && held.get() == 0 && inFlight.get() == 0
        && System.nanoTime() - lastTrafficNanos > TimeUnit.SECONDS.toNanos(idleStop)) {
      LOG.info("inference server {} idle for {} s: stopping its replicas", setup.spec().id(), idleStop);
      stopProcesses(List.of(replicas));
      return;
    }
    if (launchWanted.get() && !adminStopped) {
      launchMissing();
    }
  }

  /** Stops the processes of {@code which} (SIGTERM, then SIGKILL after 5 s); completes when they are gone. */
  private Future<Void> stopProcesses(List<Replica> which) {
    launchWanted.set(false);
    List<Future<Void>> stops = new ArrayList<>();
    for (Replica r : which) {
      r.restartAtMillis = 0;
      r.consecutiveCrashes = 0;
      if (r.process != null && r.stopping) {
        continue;
      }
      if (r.process != null) {
        r.stopping = true;
        stops.add(destroyLater(r.process));
      } else {
        r.bootStartedNanos = 0;
        r.setState(ReplicaState.STOPPED, r.state == ReplicaState.UNAVAILABLE ? r.lastError : null);
      }
    }
    return Future.join(stops).mapEmpty();
  }

  private Future<Void> destroyLater(Process process) {
    return vertx.executeBlocking(() -> {
      destroy(process);
      return null;
    }, false);
  }

  private static void destroy(Process process) {
    process.descendants().forEach(ProcessHandle::destroy);
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(2, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  // ---- changes (home context) ------------------------------------------------------------------------------------

  /**
   * Applies {@code next}, a newer read of this server (a PATCH, a start or a stop on any node). A read older than the
   * one applied (a lower revision) or an identical one changes nothing. Completes once the change is in place and
   * new replicas have been checked.
   */
  Future<Void> update(InferenceServerSpec next) {
    Promise<Void> done = Promise.promise();
    home.runOnContext(v -> apply(next).onComplete(done));
    return done.future();
  }

  private Future<Void> apply(InferenceServerSpec next) {
    Setup old = setup;
    InferenceServerSpec was = old.spec();
    if (closed || next.revision() < was.revision() || next.equals(was)) {
      return Future.succeededFuture();
    }
    if (was.sameSettings(next)) {
      setup = new Setup(next, old.predictPath(), old.http(), old.loopClients(), old.poolSize(), old.loopPools());
    } else {
      LOG.info("inference server {} changed: applying revision {} on this node", next.id(), next.revision());
      reconfigure(old, next);
    }
    Future<Void> state = Future.succeededFuture();
    if (next.stopped() && !adminStopped) {
      state = stopHere();
    } else if (!next.stopped() && adminStopped) {
      state = startHere();
    }
    return Future.join(state, checked).mapEmpty();
  }

  /**
   * Puts {@code next}'s settings in place of {@code old}'s. Requests read the new setup from now on; those in flight
   * finish with the old one, whose client and dropped replicas are closed once they are done (at the latest after
   * the old timeout). Fixed replicas that stay (same URL) keep their state and breaker; launched ones keep their
   * processes unless the command changed, in which case they are replaced by new ones.
   */
  private void reconfigure(Setup old, InferenceServerSpec next) {
    InferenceServerSpec was = old.spec();
    long graceMs = Math.max(was.timeoutMs(), settings.checkTimeout().toMillis()) + 1000;
    int poolSize = poolSize(next);
    HttpClientAgent http = old.http();
    ConcurrentHashMap<Thread, HttpClientAgent> loopClients = old.loopClients();
    ConcurrentHashMap<Thread, UpstreamPool> loopPools = old.loopPools();
    if (poolSize != old.poolSize()) {
      http = newClient(poolSize);
      loopClients = new ConcurrentHashMap<>();
      loopPools = new ConcurrentHashMap<>();
      retireClients(old, graceMs);
    }
    Replica[] before = replicas;
    List<Replica> dropped = new ArrayList<>();
    List<Replica> added = new ArrayList<>();
    Replica[] after;
    boolean relaunch = false;
    if (!was.launched() && !next.launched()) {
      List<Replica> unused = new ArrayList<>(List.of(before));
      after = new Replica[next.replicas().size()];
      for (int i = 0; i < after.length; i++) {
        String url = next.replicas().get(i);
        Replica kept = null;
        for (Replica r : unused) {
          if (r.endpoint != null && r.endpoint.url().equals(url)) {
            kept = r;
            break;
          }
        }
        if (kept != null) {
          unused.remove(kept);
          after[i] = kept;
        } else {
          after[i] = newReplica(next, i, url);
          added.add(after[i]);
        }
      }
      dropped.addAll(unused);
    } else if (was.launched() && next.launched() && was.launch().command().equals(next.launch().command())) {
      after = new Replica[next.launch().replicas()];
      for (int i = 0; i < after.length; i++) {
        after[i] = i < before.length ? before[i] : newReplica(next, i, null);
      }
      for (int i = after.length; i < before.length; i++) {
        dropped.add(before[i]);
      }
    } else {
      // Another command, or a switch between fixed replicas and a launch command: every replica is new.
      int count = next.launched() ? next.launch().replicas() : next.replicas().size();
      after = new Replica[count];
      for (int i = 0; i < count; i++) {
        after[i] = newReplica(next, i, next.launched() ? null : next.replicas().get(i));
        if (!next.launched()) {
          added.add(after[i]);
        }
      }
      dropped.addAll(List.of(before));
      if (was.launched()) {
        for (Replica r : before) {
          relaunch |= r.process != null && !r.stopping;
        }
        relaunch |= launchWanted.get();
      }
    }
    setup = new Setup(next, predictPath(next), http, loopClients, poolSize, loopPools);
    // New replicas are checked before they are put in service, and requests that arrive meanwhile wait for those
    // checks (as on first use) instead of being told the server is booting.
    boolean readinessMoved = !was.effectiveReadyPath().equals(next.effectiveReadyPath());
    List<Future<Void>> checks = new ArrayList<>();
    if (!adminStopped) {
      for (Replica r : after) {
        if ((added.contains(r) || readinessMoved) && r.endpoint != null && r.state != ReplicaState.STOPPED) {
          checks.add(check(r));
        }
      }
    }
    awaitChecks(checks);
    replicas = after;
    retire(dropped, graceMs);
    if (!next.launched()) {
      launchWanted.set(false);
    } else if (relaunch && !adminStopped) {
      launchWanted.set(true);
    }
    launchMissing();
    if (!waiters.isEmpty() && pick(null) != null) {
      wakeWaiters();
    }
  }

  /** Makes {@link #firstCheck} wait for {@code checks} too. */
  private void awaitChecks(List<Future<Void>> checks) {
    if (checks.isEmpty()) {
      return;
    }
    Future<Void> previous = checked;
    Future<Void> these = Future.join(checks).mapEmpty();
    checked = previous.isComplete() ? these : Future.join(previous, these).mapEmpty();
  }

  /** Closes the clients of a setup a change replaced, once the exchanges they carry are over. */
  private void retireClients(Setup old, long graceMs) {
    retiredClients.add(old);
    vertx.setTimer(graceMs, t -> {
      if (retiredClients.remove(old)) {
        closeClients(old);
      }
    });
  }

  private static Future<Void> closeClients(Setup s) {
    List<Future<Void>> closing = new ArrayList<>();
    closing.add(s.http().close());
    s.loopClients().values().forEach(c -> closing.add(c.close()));
    s.loopPools().values().forEach(UpstreamPool::close);
    return Future.join(closing).mapEmpty();
  }

  /**
   * Takes replicas a change dropped out of service: their outstanding requests finish (for at most {@code graceMs}),
   * then their processes are stopped and their breakers closed.
   */
  private void retire(List<Replica> dropped, long graceMs) {
    if (dropped.isEmpty()) {
      return;
    }
    retiring.addAll(dropped);
    drainThenStop(dropped, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMs));
  }

  private void drainThenStop(List<Replica> dropped, long deadlineNanos) {
    if (closed) {
      return;
    }
    boolean busy = false;
    for (Replica r : dropped) {
      busy |= r.outstanding.get() > 0;
    }
    if (busy && System.nanoTime() - deadlineNanos < 0) {
      vertx.setTimer(DRAIN_POLL_MS, t -> drainThenStop(dropped, deadlineNanos));
      return;
    }
    retiring.removeAll(dropped);
    for (Replica r : dropped) {
      if (r.process != null && !r.stopping) {
        r.stopping = true;
        destroyLater(r.process);
      }
      r.breaker.close();
    }
  }

  // ---- control ---------------------------------------------------------------------------------------------------

  /** {@code POST …/start} on this node: lifts a stop; a launched server starts its replicas now. */
  Future<Void> start() {
    Promise<Void> done = Promise.promise();
    home.runOnContext(v -> startHere().onComplete(done));
    return done.future();
  }

  /** This node stops forwarding (and stops launched processes) until started again. */
  Future<Void> stop() {
    Promise<Void> done = Promise.promise();
    home.runOnContext(v -> stopHere().onComplete(done));
    return done.future();
  }

  private Future<Void> startHere() {
    if (closed) {
      return Future.succeededFuture();
    }
    lastTrafficNanos = System.nanoTime();
    if (setup.spec().launched()) {
      adminStopped = false;
      launchWanted.set(true);
      launchMissing();
      return Future.succeededFuture();
    }
    // Checks first, then the stop is lifted: a request that comes meanwhile waits for them (firstCheck) rather than
    // being told "booting".
    List<Future<Void>> checks = new ArrayList<>();
    for (Replica r : replicas) {
      if (r.state == ReplicaState.STOPPED) {
        booting(r, null);
      }
      if (r.endpoint != null) {
        checks.add(check(r));
      }
    }
    awaitChecks(checks);
    adminStopped = false;
    return Future.join(checks).mapEmpty();
  }

  private Future<Void> stopHere() {
    adminStopped = true;
    Future<Void> done;
    if (setup.spec().launched()) {
      done = stopProcesses(List.of(replicas));
    } else {
      for (Replica r : replicas) {
        r.bootStartedNanos = 0;
        r.setState(ReplicaState.STOPPED, null);
      }
      done = Future.succeededFuture();
    }
    wakeWaiters();
    return done;
  }

  /** The live state: {@code state} of the server plus one entry per replica. Any thread. */
  JsonObject describe() {
    boolean launched = setup.spec().launched();
    JsonArray list = new JsonArray();
    boolean ready = false;
    boolean booting = false;
    boolean allStopped = true;
    for (Replica r : replicas) {
      ReplicaState s = adminStopped ? ReplicaState.STOPPED : r.effectiveState();
      ready |= s == ReplicaState.READY;
      booting |= s == ReplicaState.BOOTING;
      allStopped &= s == ReplicaState.STOPPED;
      Replica.Endpoint endpoint = r.endpoint;
      CircuitBreakerState breaker = r.breaker.state();
      JsonObject entry = new JsonObject()
          .put("url", endpoint == null ? null : endpoint.url())
          .put("state", s.wire())
          .put("since", Instant.ofEpochMilli(r.stateSinceMillis).toString())
          .put("circuit", breaker.name().toLowerCase(java.util.Locale.ROOT))
          .put("outstanding", r.outstanding.get());
      if (r.lastError != null) {
        entry.put("reason", r.lastError);
      }
      if (launched) {
        Process p = r.process;
        entry.put("pid", p == null ? null : p.pid()).put("restarts", r.restarts);
        if (r.logFile != null) {
          entry.put("log_file", r.logFile);
        }
      }
      list.add(entry);
    }
    String state = ready ? "ready" : booting ? "booting" : allStopped ? "stopped" : "unavailable";
    return new JsonObject().put("state", state).put("replicas", list).put("in_flight", inFlight.get())
        .put("held", held.get());
  }

  /** Stops checks and processes, fails held requests, closes the clients. */
  Future<Void> close() {
    if (closed) {
      return Future.succeededFuture();
    }
    closed = true;
    Promise<Void> done = Promise.promise();
    home.runOnContext(v -> {
      if (timerId >= 0) {
        vertx.cancelTimer(timerId);
      }
      firstCheck.tryComplete();
      wakeWaiters();
      List<Replica> all = new ArrayList<>(List.of(replicas));
      all.addAll(retiring);
      retiring.clear();
      stopProcesses(all).eventually(() -> {
        for (Replica r : all) {
          r.breaker.close();
        }
        List<Future<Void>> closing = new ArrayList<>();
        closing.add(closeClients(setup));
        for (Setup retired : retiredClients) {
          closing.add(closeClients(retired));
        }
        retiredClients.clear();
        return Future.join(closing);
      }).<Void>mapEmpty().onComplete(done);
    });
    return done.future();
  }
}
