package io.flowgate;

import io.flowgate.backends.LoopRedis;
import io.flowgate.backends.Migrations;
import io.flowgate.config.GatewayConfig;
import io.flowgate.console.ConsoleAssets;
import io.flowgate.control.ControlApi;
import io.flowgate.deployments.ApiKeyRepository;
import io.flowgate.deployments.Catalog;
import io.flowgate.deployments.Declarations;
import io.flowgate.deployments.DeploymentRepository;
import io.flowgate.deployments.FlowRepository;
import io.flowgate.deployments.LastUsedRecorder;
import io.flowgate.flow.FlowExecutor;
import io.flowgate.flow.FlowLimits;
import io.flowgate.flow.NodeServices;
import io.flowgate.flow.NodeTypes;
import io.flowgate.http.JsonBodies;
import io.flowgate.inference.InferenceServerRepository;
import io.flowgate.inference.InferenceServers;
import io.flowgate.inference.InferenceSettings;
import io.flowgate.metrics.GatewayMetrics;
import io.flowgate.ratelimit.RateLimiter;
import io.flowgate.runs.IdempotencyStore;
import io.flowgate.runs.RunHistoryRepository;
import io.flowgate.runs.RunService;
import io.flowgate.runs.Runs;
import io.flowgate.trigger.FastLane;
import io.flowgate.trigger.FastModeHandler;
import io.flowgate.trigger.FlowRunsHandler;
import io.flowgate.trigger.TriggerHandler;
import io.flowgate.usage.UsageRecorder;
import io.flowgate.usage.UsageRepository;
import io.flowgate.webhooks.Webhooks;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.sqlclient.Pool;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running gateway node, wired by constructors: clients for Redis and PostgreSQL, schema migrations, the caches,
 * the flow engine, the run service and queue worker, the webhook relay and delivery worker, and the HTTP verticles.
 * Used by {@link Main} and by the integration tests alike. Start and close from any thread; the parts run on Vert.x
 * contexts.
 */
public final class Gateway {
  private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);
  private static final Duration STARTUP_WAIT = Duration.ofSeconds(60);

  private final Vertx vertx;
  private final GatewayConfig config;
  private final List<String> deploymentIds = new ArrayList<>();
  private Pool pool;
  private Redis redis;
  private PgSubscriber subscriber;
  private HttpClientAgent http;
  private Runs runs;
  private RunHistoryRepository history;
  private InferenceServers inference;
  private FastLane lane;
  private LastUsedRecorder lastUsed;
  private UsageRecorder usage;
  private Webhooks webhooks;
  private int port;

  private Gateway(Vertx vertx, GatewayConfig config) {
    this.vertx = vertx;
    this.config = config;
  }

  /**
   * Starts a node against the Redis and PostgreSQL that {@code config} names (both URLs must be set: Main starts the
   * embedded servers first when they are not).
   */
  public static Future<Gateway> start(Vertx vertx, GatewayConfig config, PrometheusMeterRegistry registry) {
    Gateway gateway = new Gateway(vertx, config);
    return gateway.doStart(registry).map(gateway).recover(e -> gateway.close().transform(x -> Future.failedFuture(e)));
  }

  private Future<Void> doStart(PrometheusMeterRegistry registry) {
    PgConnectOptions pgOptions = PgConnectOptions.fromUri(config.pg().url())
        .setReconnectAttempts(2)
        .setReconnectInterval(500)
        // Each statement is parsed and planned once per connection, not at every execution (parsing the batched run
        // history statements was ~8% of PostgreSQL's CPU under the async load).
        .setCachePreparedStatements(true)
        .addProperty("statement_timeout", Long.toString(config.pg().statementTimeout().toMillis()))
        .addProperty("application_name", "flowgate-" + config.node().id());
    pool = PgBuilder.pool()
        .with(new io.vertx.sqlclient.PoolOptions().setMaxSize(config.pg().poolSize()).setMaxWaitQueueSize(1024)
            .setConnectionTimeout(5).setConnectionTimeoutUnit(TimeUnit.SECONDS))
        .connectingTo(pgOptions)
        .using(vertx)
        .build();
    // First, so that the first connection (a good part of the start, cold code on an event loop) is being made while
    // this thread builds the rest.
    Future<Integer> migrated = untilReachable(() -> Migrations.migrate(pool), System.nanoTime() + STARTUP_WAIT.toNanos(),
        0);
    RedisOptions redisOptions = redisOptions(config.redis().poolSize());
    // Commands from the event loops share one pipelined connection per loop; blocking reads use dedicated clients.
    redis = new LoopRedis(Redis.createClient(vertx, redisOptions));
    Supplier<Redis> dedicated = () -> Redis.createClient(vertx, redisOptions(1));

    http = vertx.createHttpClient(new HttpClientOptions()
            .setKeepAlive(true)
            .setConnectTimeout(5_000),
        new PoolOptions().setHttp1MaxSize(64).setMaxWaitQueueSize(1024));
    GatewayConfig.Flows f = config.flows();
    FlowLimits limits = new FlowLimits(f.expressionTimeout(), f.expressionMaxDepth(), f.httpTimeout(),
        f.httpMaxResponseBytes());
    // Fast Mode and the flows' inference nodes share this node's inference runtime (replicas, breakers, processes).
    inference = new InferenceServers(vertx, new InferenceServerRepository(pool), InferenceSettings.of(config));
    NodeServices nodeServices = new NodeServices(vertx, http, limits).with(InferenceServers.class, inference);
    NodeTypes nodeTypes = NodeTypes.load(nodeServices);
    FlowExecutor executor = new FlowExecutor(nodeServices);

    GatewayMetrics metrics = new GatewayMetrics(registry);
    ApiKeyRepository keyRepository = new ApiKeyRepository(pool);
    // last_used_at and usage are counted in memory and written in batches: no PostgreSQL write per request.
    lastUsed = new LastUsedRecorder(vertx, keyRepository);
    usage = new UsageRecorder(vertx, new UsageRepository(pool), config.node().id(), metrics,
        config.usage().retention());
    Catalog catalog = new Catalog(keyRepository, new DeploymentRepository(pool),
        new FlowRepository(pool), nodeTypes, config.cache().ttl(), lastUsed);
    JsonBodies json = new JsonBodies(config.http().maxJsonDepth(), config.http().maxBodyBytes());
    history = new RunHistoryRepository(vertx, pool, config.node().id(), config.runs().historyBatchSize(),
        usage::runEnded);

    // Neither needs the stores: the declaration files are read and their flows compiled, and the console's files read
    // from the jar (once, shared by every verticle), on worker threads while the schema is migrated.
    Future<Declarations.Loaded> declared = Declarations.load(vertx, config.declarations().dir(), nodeTypes);
    Future<ConsoleAssets> consoleAssets = vertx.executeBlocking(() -> ConsoleAssets.load(ConsoleAssets.DEFAULT_DIR));
    return migrated
        // These need the schema, not each other. join, not all: a failure surfaces once all three have settled, so
        // that close() stops whatever of them did start.
        .compose(applied -> Future.join(
            listenForChanges(pgOptions, catalog),
            declared.compose(loaded -> loaded.write(pool)),
            startRuns(dedicated, executor, catalog, metrics)))
        .compose(v -> choosePort())
        .compose(chosen -> {
          port = chosen;
          return consoleAssets;
        })
        .compose(console -> {
          RunService service = runs.service();
          IdempotencyStore idempotency = new IdempotencyStore(redis, config.redis().keyPrefix(), Duration.ofHours(24));
          RateLimiter limiter = new RateLimiter(redis, config.redis().keyPrefix(), config.redis().commandTimeout(),
              metrics);
          TriggerHandler trigger = new TriggerHandler(catalog, service, idempotency, json, metrics,
              config.http().maxBodyBytes(), new FastModeHandler(inference), limiter, usage);
          FlowRunsHandler flowRuns = new FlowRunsHandler(catalog, service);
          FastLane lane = new FastLane(catalog, inference, json, metrics, usage, config.http().maxBodyBytes());
          this.lane = lane;
          int instances = config.http().loops();
          return vertx.deployVerticle(() -> new GatewayVerticle(config, trigger, flowRuns,
                  () -> ControlApi.router(vertx, config, pool, nodeTypes, inference, usage),
                  rc -> dropCachesOnWrite(rc, catalog),
                  this::ready, port, registry, console, lane),
              new DeploymentOptions().setInstances(instances));
        })
        .onSuccess(deploymentIds::add)
        .mapEmpty();
  }

  /** The run service and queue worker, the history and usage writers, then the webhook relay and delivery worker. */
  private Future<Void> startRuns(Supplier<Redis> dedicated, FlowExecutor executor, Catalog catalog,
      GatewayMetrics metrics) {
    runs = new Runs(vertx, redis, dedicated, pool, executor, history, catalog, config);
    history.start(config.runs().historyFlush());
    lastUsed.start(config.keys().lastUsedFlush());
    usage.start(config.usage().flush());
    return runs.start().compose(v -> {
      // Events of runs reach receivers through this node's outbox relay and delivery worker, as on every node.
      webhooks = new Webhooks(vertx, redis, dedicated, pool, config, metrics,
          id -> runs.service().find(id).map(run -> run == null ? null : run.toWire()));
      return webhooks.start();
    });
  }

  private RedisOptions redisOptions(int poolSize) {
    return new RedisOptions()
        .setConnectionString(config.redis().url())
        .setPreferredProtocolVersion(ProtocolVersion.RESP2)
        .setMaxPoolSize(poolSize)
        .setMaxPoolWaiting(4096)
        .setMaxWaitingHandlers(65_536)
        .setPoolRecycleTimeout(60_000);
  }

  /**
   * Runs a start step again until the backing stores answer, for a while: a node that starts before PostgreSQL is up
   * (or while the machine is busy) waits for it instead of exiting. A broken migration fails at once.
   */
  private <T> Future<T> untilReachable(java.util.function.Supplier<Future<T>> step, long deadlineNanos, int attempt) {
    return step.get().recover(e -> {
      if (e instanceof io.flowgate.backends.MigrationException || System.nanoTime() > deadlineNanos) {
        return Future.failedFuture(e);
      }
      long delay = Math.min(2_000, 200L << Math.min(attempt, 4));
      LOG.warn("PostgreSQL not reachable yet ({}); retrying in {} ms", e.getMessage(), delay);
      io.vertx.core.Promise<T> retry = io.vertx.core.Promise.promise();
      vertx.setTimer(delay, t -> untilReachable(step, deadlineNanos, attempt + 1).onComplete(retry));
      return retry.future();
    });
  }

  /** Cache invalidation: every change to keys or deployments, on any node, drops the cached copy here. */
  private Future<Void> listenForChanges(PgConnectOptions options, Catalog catalog) {
    subscriber = PgSubscriber.subscriber(vertx, new PgConnectOptions(options))
        .reconnectPolicy(retries -> {
          // While disconnected, notices are lost: forget everything so the next reads go to PostgreSQL.
          catalog.clear();
          return Math.min(5_000L, 100L << Math.min(retries, 6));
        });
    AtomicBoolean listening = new AtomicBoolean();
    subscriber.channel("flowgate_changes")
        .subscribeHandler(v -> {
          if (listening.getAndSet(true)) {
            // Listening again after a reconnect: whatever changed while notices could not arrive is read afresh,
            // including what was cached between the disconnect and now.
            catalog.clear();
            inference.revalidate();
          }
        })
        .handler(payload -> {
          catalog.onChange(payload);
          inference.onChange(payload);
        });
    return subscriber.connect();
  }

  /**
   * A control-plane write on this node takes effect here before its response is sent; other nodes hear of it through
   * LISTEN/NOTIFY within milliseconds.
   */
  private static void dropCachesOnWrite(io.vertx.ext.web.RoutingContext rc, Catalog catalog) {
    if (rc.request().method() != io.vertx.core.http.HttpMethod.GET) {
      rc.addHeadersEndHandler(v -> {
        if (rc.response().getStatusCode() < 400) {
          catalog.clear();
        }
      });
    }
    rc.next();
  }

  /** Port 0 means "any free port"; pick one up front so that every verticle instance shares it. */
  private Future<Integer> choosePort() {
    int configured = config.http().port();
    if (configured != 0) {
      return Future.succeededFuture(configured);
    }
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(config.http().host(), 0));
      return Future.succeededFuture(socket.getLocalPort());
    } catch (IOException e) {
      return Future.failedFuture(e);
    }
  }

  /** Ready when both Redis and PostgreSQL answer. */
  private Future<Void> ready() {
    return Future.all(
        redis.send(Request.cmd(Command.PING)),
        pool.query("SELECT 1").execute()).mapEmpty();
  }

  /** The HTTP port this node listens on. */
  public int port() {
    return port;
  }

  /** Fast Mode's lane past the router (null before start). */
  public FastLane fastLane() {
    return lane;
  }

  public Pool pool() {
    return pool;
  }

  public Redis redis() {
    return redis;
  }

  /**
   * Graceful stop: the HTTP servers stop accepting and let in-flight requests finish within the grace period, the
   * queue worker finishes its runs, history is flushed, then the clients close.
   */
  public Future<Void> close() {
    Future<Void> undeploy = Future.succeededFuture();
    for (String id : deploymentIds) {
      undeploy = undeploy.compose(v -> vertx.undeploy(id).recover(e -> Future.succeededFuture()));
    }
    return undeploy
        .compose(v -> inference == null ? Future.succeededFuture()
            : inference.close().recover(e -> Future.succeededFuture()))
        .compose(v -> webhooks == null ? Future.succeededFuture()
            : webhooks.close().recover(e -> Future.succeededFuture()))
        .compose(v -> runs == null ? Future.succeededFuture() : runs.close().recover(e -> Future.succeededFuture()))
        .compose(v -> history == null ? Future.succeededFuture() : history.close().recover(e -> Future.succeededFuture()))
        .compose(v -> lastUsed == null ? Future.succeededFuture() : lastUsed.close())
        .compose(v -> usage == null ? Future.succeededFuture() : usage.close())
        .compose(v -> subscriber == null ? Future.succeededFuture() : subscriber.close().recover(e -> Future.succeededFuture()))
        .compose(v -> http == null ? Future.succeededFuture() : http.close().recover(e -> Future.succeededFuture()))
        .compose(v -> redis == null ? Future.succeededFuture() : redis.close().recover(e -> Future.succeededFuture()))
        .compose(v -> pool == null ? Future.succeededFuture() : pool.close().recover(e -> Future.succeededFuture()))
        .onComplete(ar -> LOG.debug("gateway closed"));
  }
}
