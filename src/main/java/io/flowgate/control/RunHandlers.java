package io.flowgate.control;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.deployments.DeploymentRepository;
import io.flowgate.runs.RunHistoryQuery;
import io.flowgate.runs.RunStatus;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * {@code GET /deployments/{id}/runs}: the recent runs of one of the caller's deployments (DESIGN §2), newest first,
 * a page at a time, optionally only some statuses. Event-loop only.
 */
final class RunHandlers {

  private final DeploymentRepository deployments;
  private final RunHistoryQuery history;

  RunHandlers(DeploymentRepository deployments, RunHistoryQuery history) {
    this.deployments = deployments;
    this.history = history;
  }

  /**
   * {@code GET /deployments/{id}/runs?status=&limit=&cursor=} → {@code {"items": [run, ...], "next_cursor"}}.
   * {@code status} may repeat or list several values with commas; {@code limit} is 1..100 (default 20); {@code cursor}
   * is the previous page's {@code next_cursor}.
   */
  void list(RoutingContext rc) {
    ControlRequests.reply(rc, 200, () -> {
      UUID id = ControlRequests.pathId(rc, "id", "deployment");
      UUID profileId = Caller.of(rc).profileId();
      Set<String> statuses = statuses(rc.queryParam("status"));
      int limit = QueryParams.limit(QueryParams.single(rc, "limit"), RunHistoryQuery.DEFAULT_LIMIT,
          RunHistoryQuery.MAX_LIMIT);
      String rawCursor = QueryParams.single(rc, "cursor");
      RunHistoryQuery.Cursor after = rawCursor == null ? null : RunHistoryQuery.Cursor.decode(rawCursor);
      return deployments.get(profileId, id).compose(d -> d == null
          ? Future.failedFuture(DeploymentHandlers.notFound(id))
          : history.list(profileId, id, statuses, limit, after).map(RunHandlers::toJson));
    });
  }

  private static JsonObject toJson(RunHistoryQuery.Page page) {
    JsonArray items = new JsonArray();
    for (RunHistoryQuery.Entry entry : page.items()) {
      items.add(entry.toJson());
    }
    return new JsonObject().put("items", items)
        .put("next_cursor", page.next() == null ? null : page.next().encode());
  }

  /** The statuses named by every {@code status} parameter, each a comma-separated list; empty for none. */
  static Set<String> statuses(List<String> params) {
    Set<String> statuses = new LinkedHashSet<>();
    for (String param : params) {
      for (String part : param.split(",", -1)) {
        String status = part.trim();
        if (RunStatus.fromWire(status) == null) {
          throw new GatewayException(ErrorCode.INVALID_REQUEST, "\"status\" " + (status.isEmpty() ? "has an empty "
              + "value" : "\"" + QueryParams.shorten(status) + "\" is not a run status") + "; use one or more of "
              + RunHistoryQuery.allowedStatuses() + ", repeated or separated by commas.");
        }
        statuses.add(status);
      }
    }
    return statuses;
  }
}
