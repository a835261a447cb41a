package io.flowgate.flow;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The cancellation handle of one flow run: {@link #cancel(String)} makes the run stop as soon as possible (no new
 * node starts, pending delay timers are cancelled, in-flight HTTP requests are reset) and end
 * {@link FlowOutcome#CANCELLED}. Thread-safe and lock-free: cancel from any thread.
 */
public final class RunControl {

  /** Marks the listener stack once cancelled: later listeners run at once. */
  private static final Listener CLOSED = new Listener(() -> { }, null);

  private final AtomicReference<String> reason = new AtomicReference<>();
  private final AtomicReference<Listener> listeners = new AtomicReference<>();

  /** A fresh, not cancelled handle. */
  public RunControl() {
  }

  /**
   * Cancels the run. The first call wins: it records {@code reason} and runs every {@link #onCancel} listener on
   * the calling thread; later calls do nothing.
   *
   * @return true if this call cancelled the run, false if it was already cancelled
   */
  public boolean cancel(String reason) {
    String why = reason == null || reason.isBlank() ? "cancelled" : reason;
    if (!this.reason.compareAndSet(null, why)) {
      return false;
    }
    Listener head = listeners.getAndSet(CLOSED);
    // Run in registration order: the stack holds the newest first.
    Listener reversed = null;
    for (Listener l = head; l != null && l != CLOSED; l = l.next) {
      reversed = new Listener(l.action, reversed);
    }
    for (Listener l = reversed; l != null; l = l.next) {
      runQuietly(l.action);
    }
    return true;
  }

  /** Whether {@link #cancel} was called. */
  public boolean isCancelled() {
    return reason.get() != null;
  }

  /** The reason given to {@link #cancel}, or null while not cancelled. */
  public String reason() {
    return reason.get();
  }

  /**
   * Registers {@code r} to run once when the run is cancelled, on the thread that calls {@link #cancel}; runs it at
   * once on the calling thread if the run is already cancelled. Listeners must be quick and must not throw (a
   * thrown exception is ignored).
   */
  public void onCancel(Runnable r) {
    Objects.requireNonNull(r, "r");
    while (true) {
      Listener head = listeners.get();
      if (head == CLOSED) {
        runQuietly(r);
        return;
      }
      if (listeners.compareAndSet(head, new Listener(r, head))) {
        return;
      }
    }
  }

  private static void runQuietly(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException ignored) {
      // A listener's failure must not keep the others from running.
    }
  }

  private record Listener(Runnable action, Listener next) {}
}
