package io.flowgate.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Every meter flowgate defines, with low-cardinality tags only (mode, type, outcome: closed sets; never ids, keys or
 * paths). Thread-safe.
 */
public final class GatewayMetrics {
  /** Trigger latency from the first byte to the response, by execution mode, deployment type and outcome. */
  public static final String TRIGGER_DURATION = "flowgate.trigger.duration";

  /** Webhook delivery attempts by result: 2xx, 3xx, 4xx, 5xx, timeout, network, refused (SSRF guard). */
  public static final String WEBHOOK_ATTEMPTS = "flowgate.webhooks.attempts";
  /** Webhook deliveries that ended, by outcome: succeeded, failed, skipped. */
  public static final String WEBHOOK_DELIVERIES = "flowgate.webhooks.deliveries";
  /** From a run event to its successful delivery. */
  public static final String WEBHOOK_LATENCY = "flowgate.webhooks.delivery.latency";
  /** Deliveries waiting (pending), cluster-wide as this node last counted. */
  public static final String WEBHOOK_QUEUE_PENDING = "flowgate.webhooks.queue.pending";
  /** Age in seconds of the oldest waiting delivery. */
  public static final String WEBHOOK_QUEUE_AGE = "flowgate.webhooks.queue.age";

  /** Rate-limit decisions of triggers of rate-limited deployments, by result: allowed, limited, unavailable. */
  public static final String RATE_LIMIT_DECISIONS = "flowgate.ratelimit.decisions";
  /** Queued (or background) runs: from acceptance to the start of execution, by mode and type. */
  public static final String RUN_QUEUE_WAIT = "flowgate.runs.queue.wait";
  /** Queued (or background) runs: from the start of execution to the end, by mode and type. */
  public static final String RUN_EXECUTION = "flowgate.runs.execution";

  private final MeterRegistry registry;
  private final Map<String, Counter> rateLimitDecisions = new ConcurrentHashMap<>();
  private final Map<String, Timer> runQueueWait = new ConcurrentHashMap<>();
  private final Map<String, Timer> runExecution = new ConcurrentHashMap<>();
  private final Map<TimerKey, Timer> triggerTimers = new ConcurrentHashMap<>();
  private final Map<String, Counter> webhookAttempts = new ConcurrentHashMap<>();
  private final Map<String, Counter> webhookDeliveries = new ConcurrentHashMap<>();
  private final AtomicLong webhookPending = new AtomicLong();
  private final AtomicReference<Double> webhookOldest = new AtomicReference<>(0.0);
  private final Timer webhookLatency;

  public GatewayMetrics(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder(WEBHOOK_QUEUE_PENDING, webhookPending, AtomicLong::doubleValue)
        .description("Webhook deliveries waiting to be made").register(registry);
    Gauge.builder(WEBHOOK_QUEUE_AGE, webhookOldest, AtomicReference::get).baseUnit("seconds")
        .description("Age of the oldest webhook delivery waiting to be made").register(registry);
    webhookLatency = Timer.builder(WEBHOOK_LATENCY).description("From a run event to its successful delivery")
        .publishPercentileHistogram().register(registry);
  }

  /** Counts one webhook delivery attempt; {@code result} is one of a closed set (see {@link #WEBHOOK_ATTEMPTS}). */
  public void webhookAttempt(String result) {
    webhookAttempts.computeIfAbsent(result, r -> Counter.builder(WEBHOOK_ATTEMPTS)
        .description("Webhook delivery attempts").tag("result", r).register(registry)).increment();
  }

  /** Counts one ended delivery; {@code sinceEvent} (for a success) is how long it took from the event. */
  public void webhookDelivered(String outcome, Duration sinceEvent) {
    webhookDeliveries.computeIfAbsent(outcome, o -> Counter.builder(WEBHOOK_DELIVERIES)
        .description("Webhook deliveries that ended").tag("outcome", o).register(registry)).increment();
    if ("succeeded".equals(outcome) && sinceEvent != null) {
      webhookLatency.record(sinceEvent);
    }
  }

  /** The webhook queue as last counted. */
  public void webhookQueue(long pending, double oldestSeconds) {
    webhookPending.set(pending);
    webhookOldest.set(oldestSeconds);
  }

  /** Counts one rate-limit decision; {@code result} is allowed, limited or unavailable (Redis did not answer). */
  public void rateLimitDecision(String result) {
    Counter counter = rateLimitDecisions.get(result);
    if (counter == null) {
      counter = rateLimitDecisions.computeIfAbsent(result, r -> Counter.builder(RATE_LIMIT_DECISIONS)
          .description("Rate-limit decisions of triggers").tag("result", r).register(registry));
    }
    counter.increment();
  }

  /**
   * Records the timings of a run that ended after waiting in the queue (or in the background): {@code mode} sync or
   * async, {@code type} api or server.
   */
  public void runTimings(String mode, String type, Duration queueWait, Duration execution) {
    String key = mode + '/' + type;
    runQueueWait.computeIfAbsent(key, k -> Timer.builder(RUN_QUEUE_WAIT)
        .description("Runs, from acceptance to the start of execution").tag("mode", mode).tag("type", type)
        .publishPercentileHistogram().register(registry)).record(queueWait);
    runExecution.computeIfAbsent(key, k -> Timer.builder(RUN_EXECUTION)
        .description("Runs, from the start of execution to the end").tag("mode", mode).tag("type", type)
        .publishPercentileHistogram().register(registry)).record(execution);
  }

  /** Records one trigger. {@code outcome} is "ok" or an error code. */
  public void triggerDone(String mode, String type, String outcome, long startNanos) {
    TimerKey key = new TimerKey(mode, type, outcome);
    Timer timer = triggerTimers.get(key);
    if (timer == null) {
      timer = triggerTimers.computeIfAbsent(key, k -> Timer.builder(TRIGGER_DURATION)
          .description("Trigger requests, from arrival to response")
          .tag("mode", mode).tag("type", type).tag("outcome", outcome)
          .publishPercentileHistogram()
          .register(registry));
    }
    timer.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * A key per trigger without concatenating a String: its hash comes from the tags' cached hash codes. equals and
   * hashCode are written out: a record's generated ones go through an invokedynamic bootstrap that cost 2% of Fast
   * Mode's event-loop time in a profile.
   */
  private record TimerKey(String mode, String type, String outcome) {
    @Override
    public boolean equals(Object o) {
      return o instanceof TimerKey k && k.mode.equals(mode) && k.type.equals(type) && k.outcome.equals(outcome);
    }

    @Override
    public int hashCode() {
      return (mode.hashCode() * 31 + type.hashCode()) * 31 + outcome.hashCode();
    }
  }

  public MeterRegistry registry() {
    return registry;
  }
}
