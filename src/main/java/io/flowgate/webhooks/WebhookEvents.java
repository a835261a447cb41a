package io.flowgate.webhooks;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The events a deployment's webhook may subscribe to (DESIGN §2.3) and how a run's status transitions record them: a
 * run's Redis hash carries its deployment's subscription as {@code notify} flags, and the Lua script that changes the
 * run's status appends the event to the outbox stream {@link #outboxKey} in the same atomic step. Immutable; any
 * thread.
 */
public final class WebhookEvents {
  public static final String STARTED = "run.started";
  public static final String COMPLETED = "run.completed";
  /** Also sent, with the run's status, for a run that timed out or was cancelled. */
  public static final String FAILED = "run.failed";
  public static final List<String> ALL = List.of(STARTED, COMPLETED, FAILED);

  /** Fields of an outbox stream entry, as the Lua scripts of the run store write them. */
  public static final String FIELD_MESSAGE = "msg";
  public static final String FIELD_TYPE = "type";
  public static final String FIELD_RUN = "run";
  public static final String FIELD_DEPLOYMENT = "deployment";
  public static final String FIELD_STATUS = "status";
  public static final String FIELD_AT = "at";

  private WebhookEvents() {
  }

  /** The outbox stream under a Redis key prefix. */
  public static String outboxKey(String prefix) {
    return prefix + "webhooks:outbox";
  }

  /**
   * The {@code notify} flags of a deployment's notification settings: {@code s}, {@code c}, {@code f} for started,
   * completed and failed; empty when it sends no webhooks.
   */
  public static String flags(JsonObject notification) {
    if (!notifies(notification)) {
      return "";
    }
    JsonArray events = notification.getJsonArray("events");
    StringBuilder flags = new StringBuilder(3);
    for (String event : ALL) {
      if (events == null || events.contains(event)) {
        flags.append(flag(event));
      }
    }
    return flags.toString();
  }

  /** Whether these notification settings send webhooks at all. */
  public static boolean notifies(JsonObject notification) {
    return notification != null && "webhook".equals(notification.getString("method"));
  }

  /** The flag of one event, as {@link #flags} writes it. */
  static char flag(String event) {
    return switch (event) {
      case STARTED -> 's';
      case COMPLETED -> 'c';
      case FAILED -> 'f';
      default -> throw new IllegalArgumentException("unknown event " + event);
    };
  }
}
