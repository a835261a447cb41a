package io.flowgate.control;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.webhooks.WebhookDeliveryRepository;
import io.flowgate.webhooks.WebhookEndpointRepository;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The webhook calls of the control plane (DESIGN §2.3): rotate a deployment's signing secret, read its delivery log,
 * redeliver a delivery. Event-loop only.
 */
final class WebhookHandlers {
  private static final long MAX_OVERLAP_SECONDS = 30L * 86_400;

  private final WebhookEndpointRepository endpoints;
  private final WebhookDeliveryRepository deliveries;
  private final ControlRequests requests;
  private final Duration defaultOverlap;

  WebhookHandlers(WebhookEndpointRepository endpoints, WebhookDeliveryRepository deliveries, ControlRequests requests,
      Duration defaultOverlap) {
    this.endpoints = endpoints;
    this.deliveries = deliveries;
    this.requests = requests;
    this.defaultOverlap = defaultOverlap;
  }

  /**
   * {@code POST /deployments/{id}/webhook-secret/rotate} {@code {"overlap_seconds"?}} → the new {@code webhook_secret}
   * (shown once) and {@code previous_secret_expires_at}: until then deliveries carry both signatures.
   */
  void rotate(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "deployment");
      JsonObject body = requests.body(rc, "the rotation");
      ControlRequests.onlyFields(body, List.of("overlap_seconds"));
      Duration overlap = defaultOverlap;
      Object raw = body.getValue("overlap_seconds");
      if (raw != null) {
        if (!(raw instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.longValue() < 0
            || n.longValue() > MAX_OVERLAP_SECONDS) {
          throw new GatewayException(ErrorCode.INVALID_REQUEST, "\"overlap_seconds\" must be a whole number from 0"
              + " to " + MAX_OVERLAP_SECONDS + " (how long the current secret keeps signing); leave it out for the "
              + "default of " + defaultOverlap.toSeconds() + ".");
        }
        overlap = Duration.ofSeconds(n.longValue());
      }
      return endpoints.rotate(Caller.of(rc).profileId(), id, overlap).map(rotated -> rotated.toJson(id));
    });
  }

  /**
   * {@code GET /deployments/{id}/webhook-deliveries?state=&limit=&cursor=} → {@code {"endpoint", "items": [delivery
   * with its attempts, ...], "next_cursor"}}, newest first.
   */
  void list(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "deployment");
      UUID profileId = Caller.of(rc).profileId();
      List<String> states = states(rc.queryParam("state"));
      int limit = QueryParams.limit(QueryParams.single(rc, "limit"), WebhookDeliveryRepository.DEFAULT_LIMIT,
          WebhookDeliveryRepository.MAX_LIMIT);
      String cursor = QueryParams.single(rc, "cursor");
      return endpoints.describe(profileId, id).compose(endpoint -> deliveries.list(profileId, id, states, limit,
          cursor).map(page -> new JsonObject().put("endpoint", endpoint).put("items", page.items())
          .put("next_cursor", page.nextCursor())));
    });
  }

  /** {@code POST /webhook-deliveries/{id}/redeliver} → 202 with the delivery, due now. */
  void redeliver(RoutingContext rc) {
    ControlRequests.reply(rc, 202, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "webhook delivery");
      return deliveries.redeliver(Caller.of(rc).profileId(), id);
    });
  }

  private static List<String> states(List<String> params) {
    List<String> states = new ArrayList<>();
    for (String param : params) {
      for (String part : param.split(",", -1)) {
        String state = part.trim();
        if (!WebhookDeliveryRepository.STATES.contains(state)) {
          throw new GatewayException(ErrorCode.INVALID_REQUEST, "\"state\" \"" + QueryParams.shorten(state)
              + "\" is not a delivery state; use one or more of " + String.join(", ", WebhookDeliveryRepository.STATES)
              + ".");
        }
        states.add(state);
      }
    }
    return states;
  }
}
