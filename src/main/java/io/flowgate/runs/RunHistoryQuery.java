package io.flowgate.runs;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.zip.CRC32;

/**
 * Reads a deployment's recent runs from {@code run_history}, newest first ({@code created_at DESC, id DESC}), one
 * page at a time with keyset pagination: a {@link Cursor} names the last row of the previous page and the next page
 * starts strictly after it, so rows written meanwhile never shift or repeat a page. Every query filters on the
 * profile as well as the deployment, so a caller's profile bounds what it can read even if the caller skipped the
 * deployment ownership check. Thread-safe; every method returns a Future.
 */
public final class RunHistoryQuery {
  /** The page size when none is asked for. */
  public static final int DEFAULT_LIMIT = 20;
  /** The largest page. */
  public static final int MAX_LIMIT = 100;

  private static final String COLUMNS = "id, deployment_id, status, flow_version, execution_mode, deployment_type, "
      + "error, created_at, started_at, finished_at, duration_ms";

  // Four fixed statements rather than one with "$n IS NULL OR ...": a generic plan of the catch-all form could not
  // put the status or the keyset bound into the index condition. With a status filter the planner can use
  // run_history_deployment_status (deployment_id, status, created_at DESC), else run_history_deployment
  // (deployment_id, created_at DESC). The row comparison bounds created_at in the index; id breaks ties.
  static final String LIST = sql(false, false);
  static final String LIST_AFTER = sql(false, true);
  static final String LIST_BY_STATUS = sql(true, false);
  static final String LIST_BY_STATUS_AFTER = sql(true, true);

  private final Pool pool;

  public RunHistoryQuery(Pool pool) {
    this.pool = pool;
  }

  private static String sql(boolean byStatus, boolean after) {
    int n = 3;
    StringBuilder sql = new StringBuilder("SELECT ").append(COLUMNS)
        .append(" FROM run_history WHERE deployment_id = $1 AND profile_id = $2");
    if (byStatus) {
      sql.append(" AND status = ANY($").append(n++).append("::text[])");
    }
    if (after) {
      sql.append(" AND (created_at, id) < ($").append(n++).append("::timestamptz, $").append(n++).append("::uuid)");
    }
    return sql.append(" ORDER BY created_at DESC, id DESC LIMIT $").append(n).toString();
  }

  /**
   * Up to {@code limit} runs of the profile's deployment, newest first, with {@code statuses} only (null or empty: any
   * status), starting after {@code after} (null: from the newest). The page's {@code next} is null when no run
   * follows. Fails with 400 {@code invalid_request} for a limit outside 1..{@value #MAX_LIMIT} or an unknown status.
   */
  public Future<Page> list(UUID profileId, UUID deploymentId, Set<String> statuses, int limit, Cursor after) {
    if (limit < 1 || limit > MAX_LIMIT) {
      return Future.failedFuture(new GatewayException(ErrorCode.INVALID_REQUEST,
          "\"limit\" must be from 1 to " + MAX_LIMIT + "; got " + limit + "."));
    }
    boolean byStatus = statuses != null && !statuses.isEmpty();
    if (byStatus) {
      for (String status : statuses) {
        if (RunStatus.fromWire(status) == null) {
          return Future.failedFuture(new GatewayException(ErrorCode.INVALID_REQUEST,
              "Unknown run status \"" + status + "\"; use " + allowedStatuses() + "."));
        }
      }
    }
    Tuple params = Tuple.of(deploymentId, profileId);
    if (byStatus) {
      params.addArrayOfString(statuses.toArray(new String[0]));
    }
    if (after != null) {
      params.addOffsetDateTime(after.createdAt().atOffset(ZoneOffset.UTC)).addUUID(after.id());
    }
    // One row more than asked tells whether a next page exists, so the last page never links to an empty one.
    params.addInteger(limit + 1);
    String sql = byStatus ? after != null ? LIST_BY_STATUS_AFTER : LIST_BY_STATUS : after != null ? LIST_AFTER : LIST;
    return pool.preparedQuery(sql).execute(params).map(rows -> page(rows, limit));
  }

  private static Page page(RowSet<Row> rows, int limit) {
    List<Entry> items = new ArrayList<>(Math.min(rows.size(), limit));
    boolean more = false;
    for (Row row : rows) {
      if (items.size() == limit) {
        more = true;
        break;
      }
      items.add(entry(row));
    }
    Entry last = items.isEmpty() ? null : items.get(items.size() - 1);
    return new Page(List.copyOf(items), more ? new Cursor(last.createdAt(), last.id()) : null);
  }

  private static Entry entry(Row row) {
    Object error = row.getValue("error");
    return new Entry(
        row.getUUID("id"),
        row.getUUID("deployment_id"),
        row.getString("status"),
        row.getInteger("flow_version"),
        row.getString("execution_mode"),
        row.getString("deployment_type"),
        error == null || error instanceof JsonObject ? (JsonObject) error
            : new JsonObject().put("message", String.valueOf(error)),
        instant(row, "created_at"),
        instant(row, "started_at"),
        instant(row, "finished_at"),
        row.getDouble("duration_ms"));
  }

  private static Instant instant(Row row, String column) {
    OffsetDateTime t = row.getOffsetDateTime(column);
    return t == null ? null : t.toInstant();
  }

  /** The statuses a filter may name, for messages: {@code queued, running, ...}. */
  public static String allowedStatuses() {
    StringBuilder s = new StringBuilder();
    for (RunStatus status : RunStatus.values()) {
      s.append(s.length() == 0 ? "" : ", ").append(status.wire());
    }
    return s.toString();
  }

  /** One page of runs and the cursor of the next page, or null when this is the last. Immutable; any thread. */
  public record Page(List<Entry> items, Cursor next) {
  }

  /**
   * One run as listed: its summary without inputs, outputs or node outputs (those stay with
   * {@code GET /node/flow-runs/{id}/}). Immutable; any thread.
   */
  public record Entry(UUID id, UUID deploymentId, String status, Integer flowVersion, String executionMode,
      String deploymentType, JsonObject error, Instant createdAt, Instant startedAt, Instant finishedAt,
      Double durationMs) {

    /** The wire form; every member is present, null when unknown (not started, not finished). */
    public JsonObject toJson() {
      return new JsonObject()
          .put("flow_run_id", id.toString())
          .put("deployment_id", deploymentId.toString())
          .put("status", status)
          .put("flow_version", flowVersion)
          .put("execution_mode", executionMode)
          .put("deployment_type", deploymentType)
          .put("error", error)
          .put("created_at", createdAt == null ? null : createdAt.toString())
          .put("started_at", startedAt == null ? null : startedAt.toString())
          .put("finished_at", finishedAt == null ? null : finishedAt.toString())
          .put("duration_seconds", durationMs == null ? null : durationMs / 1000);
    }
  }

  /**
   * A position in the newest-first order: the {@code created_at} and id of the last run of a page. Its wire form is
   * opaque to clients: base64url (no padding) of a version byte, the time in epoch microseconds (PostgreSQL's
   * precision), the id and a CRC-32 of those, so a cursor that was cut or altered is refused rather than silently
   * read as another position. The CRC guards against accidents, not attacks: a forged cursor can only move within
   * the caller's own runs, since every query is bounded by profile and deployment. Immutable; any thread.
   */
  public record Cursor(Instant createdAt, UUID id) {
    private static final byte VERSION = 1;
    private static final int PAYLOAD_BYTES = 1 + Long.BYTES + 2 * Long.BYTES;
    private static final int BYTES = PAYLOAD_BYTES + Integer.BYTES;
    // PostgreSQL's timestamptz range is wider; run times outside years 1..9999 can only come from a forged cursor.
    private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999999Z");

    public Cursor {
      if (createdAt == null || id == null) {
        throw new IllegalArgumentException("a cursor needs created_at and id");
      }
    }

    /** The opaque wire form. */
    public String encode() {
      long micros = Math.addExact(Math.multiplyExact(createdAt.getEpochSecond(), 1_000_000L),
          createdAt.getNano() / 1_000);
      ByteBuffer buffer = ByteBuffer.allocate(BYTES).put(VERSION).putLong(micros)
          .putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
      buffer.putInt((int) crc(buffer.array()));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(buffer.array());
    }

    /** The cursor {@link #encode} wrote; 400 {@code invalid_request} for anything else. */
    public static Cursor decode(String value) {
      byte[] bytes;
      try {
        bytes = value == null ? null : Base64.getUrlDecoder().decode(value);
      } catch (IllegalArgumentException e) {
        bytes = null;
      }
      if (bytes == null || bytes.length != BYTES || bytes[0] != VERSION) {
        throw invalid();
      }
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      buffer.get();
      long micros = buffer.getLong();
      UUID id = new UUID(buffer.getLong(), buffer.getLong());
      if (buffer.getInt() != (int) crc(bytes)) {
        throw invalid();
      }
      Instant createdAt = Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
          Math.floorMod(micros, 1_000_000L) * 1_000L);
      if (createdAt.isBefore(EARLIEST) || createdAt.isAfter(LATEST)) {
        throw invalid();
      }
      // The canonical spelling only: base64 tolerates other spellings of the same bytes (trailing bits, padding).
      Cursor cursor = new Cursor(createdAt, id);
      if (!cursor.encode().equals(value)) {
        throw invalid();
      }
      return cursor;
    }

    private static long crc(byte[] bytes) {
      CRC32 crc = new CRC32();
      crc.update(bytes, 0, PAYLOAD_BYTES);
      return crc.getValue();
    }

    private static GatewayException invalid() {
      return new GatewayException(ErrorCode.INVALID_REQUEST, "\"cursor\" is not one this API returned; pass the "
          + "\"next_cursor\" of the previous page unchanged, or leave it out to start from the newest run.");
    }
  }
}
