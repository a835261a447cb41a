package io.flowgate.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Every meter flowgate defines, with low-cardinality tags only (mode, type, outcome: closed sets; never ids, keys or
 * paths). Thread-safe.
 */
public final class GatewayMetrics {
  /** Trigger latency from the first byte to the response, by execution mode, deployment type and outcome. */
  public static final String TRIGGER_DURATION = "flowgate.trigger.duration";

  private final MeterRegistry registry;
  private final Map<TimerKey, Timer> triggerTimers = new ConcurrentHashMap<>();

  public GatewayMetrics(MeterRegistry registry) {
    this.registry = registry;
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
