package io.flowgate.deployments;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code last_used_at} of API keys without a PostgreSQL write per request: a use is noted in memory, to the minute
 * (one map read per request, a write only when the minute changes), and every {@code keys.last_used_flush_ms} the keys
 * whose minute moved are written in one statement. A failed write is retried by the next one; a node that dies loses
 * at most that interval. Thread-safe: {@link #touch} is called from every event loop.
 */
public final class LastUsedRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(LastUsedRecorder.class);
  private static final long MINUTE_MS = 60_000;
  // A key unused for this long (and written) is forgotten, so the map holds only the keys in use lately.
  private static final long FORGET_AFTER_MS = 60 * MINUTE_MS;

  private final Vertx vertx;
  private final ApiKeyRepository keys;
  private final Map<UUID, Use> uses = new ConcurrentHashMap<>();
  private final AtomicBoolean flushing = new AtomicBoolean();
  private long timerId = -1;

  public LastUsedRecorder(Vertx vertx, ApiKeyRepository keys) {
    this.vertx = vertx;
    this.keys = keys;
  }

  /** The minute of a key's latest use seen here, and the latest minute written to PostgreSQL. */
  private static final class Use {
    volatile long minute;
    volatile long written;

    Use(long minute) {
      this.minute = minute;
    }
  }

  /** Starts the periodic write. */
  public void start(Duration every) {
    timerId = vertx.setPeriodic(every.toMillis(), t -> flush());
  }

  /** Notes that key {@code keyId} was used now. Never blocks, never fails. */
  public void touch(UUID keyId) {
    long minute = System.currentTimeMillis() / MINUTE_MS * MINUTE_MS;
    Use use = uses.get(keyId);
    if (use == null) {
      uses.putIfAbsent(keyId, new Use(minute));
    } else if (use.minute < minute) {
      // Two loops racing here write the same minute: no lost update worth a lock.
      use.minute = minute;
    }
  }

  /** Writes the uses not written yet; completes when done (a failure is logged and retried by the next flush). */
  public Future<Void> flush() {
    if (!flushing.compareAndSet(false, true)) {
      return Future.succeededFuture();
    }
    Map<UUID, Long> due = new HashMap<>();
    long now = System.currentTimeMillis();
    uses.forEach((id, use) -> {
      long minute = use.minute;
      if (minute > use.written) {
        due.put(id, minute);
      } else if (now - minute > FORGET_AFTER_MS) {
        uses.remove(id, use);
      }
    });
    if (due.isEmpty()) {
      flushing.set(false);
      return Future.succeededFuture();
    }
    Map<UUID, Instant> times = new HashMap<>();
    due.forEach((id, minute) -> times.put(id, Instant.ofEpochMilli(minute)));
    return keys.touch(times)
        .onSuccess(n -> due.forEach((id, minute) -> {
          Use use = uses.get(id);
          if (use != null && use.written < minute) {
            use.written = minute;
          }
        }))
        .onFailure(e -> LOG.warn("writing last_used_at of {} API keys failed, will retry: {}", due.size(),
            e.getMessage()))
        .<Void>mapEmpty()
        .recover(e -> Future.succeededFuture())
        .andThen(ar -> flushing.set(false));
  }

  /** Stops the timer and writes what is left. */
  public Future<Void> close() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
    return flush();
  }
}
