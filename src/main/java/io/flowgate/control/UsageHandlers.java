package io.flowgate.control;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.deployments.ApiKey;
import io.flowgate.deployments.ApiKeyRepository;
import io.flowgate.deployments.DeploymentRepository;
import io.flowgate.usage.UsageRecorder;
import io.flowgate.usage.UsageReport;
import io.flowgate.usage.UsageRepository;
import io.flowgate.usage.UsageSeries;
import io.flowgate.usage.UsageWindow;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * {@code GET /deployments/{id}/usage?window=1h|24h|7d}: calls, errors by code, latency percentiles and the last call
 * of one of the caller's deployments, and the queue wait and execution time of its queued runs, in total and per API
 * key (masked). Counted by every node in memory and written every {@code usage.flush_ms}; this node writes its own
 * counts first, so a report may lag other nodes' calls by that interval. Event-loop only.
 */
final class UsageHandlers {
  private final DeploymentRepository deployments;
  private final ApiKeyRepository keys;
  private final UsageRepository usage;
  private final UsageRecorder recorder;
  private final UsageSeries series;

  /** {@code recorder} (this node's counts, written before a report is read) may be null. */
  UsageHandlers(DeploymentRepository deployments, ApiKeyRepository keys, UsageRepository usage,
      UsageRecorder recorder, UsageSeries series) {
    this.deployments = deployments;
    this.keys = keys;
    this.usage = usage;
    this.recorder = recorder;
    this.series = series;
  }

  /** {@code GET /deployments/{id}/usage?window=} (default 24h). */
  void get(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "deployment");
      UUID profileId = Caller.of(rc).profileId();
      UsageWindow window = window(rc);
      return flushedIfFound(profileId, id)
          .compose(v -> Future.all(usage.report(id, window), keys.list(profileId)))
          .map(both -> {
            Map<UUID, JsonObject> described = new HashMap<>();
            for (ApiKey key : both.<List<ApiKey>>resultAt(1)) {
              described.put(key.id(), new JsonObject().put("key", key.masked()).put("name", key.name()));
            }
            return both.<UsageReport>resultAt(0).toJson(described::get);
          });
    });
  }

  /**
   * {@code GET /deployments/{id}/usage/series?window=} (default 24h): calls, errors and latency p50/p99 per step of the
   * window, for charts.
   */
  void series(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "deployment");
      UsageWindow window = window(rc);
      return flushedIfFound(Caller.of(rc).profileId(), id).compose(v -> series.read(id, window));
    });
  }

  private static UsageWindow window(RoutingContext rc) {
    String raw = QueryParams.single(rc, "window");
    UsageWindow window = raw == null ? UsageWindow.DEFAULT : UsageWindow.fromWire(raw.trim());
    if (window == null) {
      throw new GatewayException(ErrorCode.INVALID_REQUEST, "\"window\" must be one of 1h, 24h, 7d (default 24h); "
          + "got \"" + QueryParams.shorten(raw) + "\".");
    }
    return window;
  }

  /** Fails 404 unless the caller's profile has the deployment; then writes this node's latest counts. */
  private Future<Void> flushedIfFound(UUID profileId, UUID id) {
    return deployments.get(profileId, id)
        .compose(d -> d == null ? Future.failedFuture(DeploymentHandlers.notFound(id))
            : recorder == null ? Future.succeededFuture() : recorder.flush());
  }
}
