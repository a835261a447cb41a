package io.flowgate.flow;

import io.vertx.core.json.JsonObject;

/**
 * The result of one flow run. A value (its JSON shares structure with the run's data: treat it as read-only);
 * usable on any thread.
 *
 * @param outcome how the run ended
 * @param outputData the output node's value: the object itself when it is a JSON object, else wrapped as
 *     {@code {"value": v}}; an empty object when the output node did not run (skipped by a condition, failed or
 *     cancelled run)
 * @param nodeOutputs per node id, in plan order: {@code {"status": "completed"|"failed"|"skipped"|"cancelled",
 *     "output": ..., "duration_ms": 0.8}}; {@code output} only for completed nodes, {@code error} (the message) for
 *     the failed one; nodes never started by a failed or cancelled run are absent
 * @param error for {@link FlowOutcome#FAILED} only: {@code {"node_id": "...", "message": "..."}}; else null
 */
public record FlowResult(FlowOutcome outcome, JsonObject outputData, JsonObject nodeOutputs, JsonObject error) {}
