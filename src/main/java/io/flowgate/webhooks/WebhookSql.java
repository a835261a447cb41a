package io.flowgate.webhooks;

/** Every query of the webhooks feature, in one place. Each query of a profile's resource filters on it. */
final class WebhookSql {
  /**
   * Events relayed from the outbox become deliveries of the deployments that (still) subscribe to them; an event
   * relayed twice (a relay that died before acknowledging it) is stored once, by its message id.
   */
  static final String INSERT_EVENTS = """
      INSERT INTO webhook_deliveries (id, message_id, profile_id, deployment_id, run_id, event_type, payload, state,
        next_attempt_at)
      SELECT u.id, u.message_id, d.profile_id, d.id, u.run_id, u.event_type, u.payload, 'pending', now()
      FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::text[])
        AS u(id, message_id, deployment_id, run_id, event_type, payload)
      JOIN deployments d ON d.id = u.deployment_id
      WHERE d.notification->>'method' = 'webhook' AND d.notification->'events' @> jsonb_build_array(u.event_type)
      ON CONFLICT (message_id) DO NOTHING
      """;

  /**
   * Takes up to $1 due deliveries for this node: counts the attempt, fences it with the claim $2 and moves
   * next_attempt_at $3 ms ahead (past the attempt's deadline), so that a delivery whose node dies falls due again.
   * Returns each with its endpoint: URL, secrets (the previous one while its overlap lasts), disabled state.
   */
  static final String CLAIM = """
      WITH due AS (
        SELECT id FROM webhook_deliveries
        WHERE state = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED),
      claimed AS (
        UPDATE webhook_deliveries w SET attempts = w.attempts + 1, claim = $2, updated_at = now(),
          next_attempt_at = now() + $3::bigint * interval '1 millisecond'
        FROM due WHERE w.id = due.id
        RETURNING w.id, w.message_id, w.deployment_id, w.event_type, w.payload, w.attempts, w.schedule_from,
          w.created_at)
      SELECT c.id, c.message_id, c.deployment_id, c.event_type, c.payload, c.attempts, c.schedule_from, c.created_at,
        d.notification->>'method' AS method, d.notification->>'url' AS url, e.secret,
        CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END AS previous_secret,
        e.disabled_at
      FROM claimed c
      LEFT JOIN deployments d ON d.id = c.deployment_id
      LEFT JOIN webhook_endpoints e ON e.deployment_id = c.deployment_id
      """;

  /**
   * Records an attempt and the delivery's new state, if this node's claim $2 still holds (a node that stalled past
   * its claim writes nothing). $3 state, $4 ms until the next attempt (by the database's clock, which every node
   * shares), $5 status code, $6 error, $7 started, $8 duration ms, $9 response excerpt.
   */
  static final String COMPLETE = """
      WITH updated AS (
        UPDATE webhook_deliveries SET state = $3::text, last_status = $5::int,
          next_attempt_at = CASE WHEN $4::bigint IS NULL THEN NULL
            ELSE now() + $4::bigint * interval '1 millisecond' END,
          last_error = $6::text, claim = NULL, updated_at = now(),
          finished_at = CASE WHEN $3::text = 'pending' THEN NULL ELSE now() END
        WHERE id = $1 AND claim = $2
        RETURNING id, attempts)
      INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, response_body)
      SELECT id, attempts, $7, $8, $5::int, $6::text, $9 FROM updated
      ON CONFLICT (delivery_id, attempt) DO NOTHING
      """;

  /** Ends a claimed delivery without an attempt ($3 why): its deployment no longer sends webhooks, or is disabled. */
  static final String SKIP = """
      UPDATE webhook_deliveries SET state = 'skipped', attempts = attempts - 1, last_error = $3, claim = NULL,
        next_attempt_at = NULL, updated_at = now(), finished_at = now()
      WHERE id = $1 AND claim = $2
      """;

  /** A 410 Gone disables the endpoint until its notification is set again. */
  static final String DISABLE_ENDPOINT = """
      UPDATE webhook_endpoints SET disabled_at = now(), disabled_reason = $2
      WHERE deployment_id = $1 AND disabled_at IS NULL
      """;

  /** The endpoint of one of the profile's deployments, for the delivery log; no row when there is no deployment. */
  static final String ENDPOINT = """
      SELECT d.notification, e.deployment_id IS NOT NULL AS has_secret, e.disabled_at, e.disabled_reason,
        e.rotated_at, e.previous_secret_expires_at
      FROM deployments d LEFT JOIN webhook_endpoints e ON e.deployment_id = d.id
      WHERE d.id = $1 AND d.profile_id = $2
      """;

  static final String DELIVERY_COLUMNS = "id, message_id, run_id, event_type, state, attempts, next_attempt_at, "
      + "last_status, last_error, created_at, updated_at, finished_at";

  /** A page of the deployment's deliveries, newest first, after the cursor ($3, $4), optionally of states $5. */
  static final String LIST = "SELECT " + DELIVERY_COLUMNS + " FROM webhook_deliveries"
      + " WHERE deployment_id = $1 AND profile_id = $2 AND (created_at, id) < ($3, $4)"
      + " AND (cardinality($5::text[]) = 0 OR state = ANY($5::text[]))"
      + " ORDER BY created_at DESC, id DESC LIMIT $6";

  static final String ATTEMPTS = """
      SELECT delivery_id, attempt, started_at, duration_ms, status_code, error, response_body
      FROM webhook_attempts WHERE delivery_id = ANY($1) ORDER BY delivery_id, attempt
      """;

  /** A delivery of the profile with what a redelivery depends on. */
  static final String FOR_REDELIVERY = """
      SELECT w.id, w.deployment_id, d.notification->>'method' AS method, e.deployment_id IS NOT NULL AS has_secret,
        e.disabled_at
      FROM webhook_deliveries w
      LEFT JOIN deployments d ON d.id = w.deployment_id
      LEFT JOIN webhook_endpoints e ON e.deployment_id = w.deployment_id
      WHERE w.id = $1 AND w.profile_id = $2
      """;

  /** Sends a delivery again now, with a fresh retry schedule; an attempt in flight loses its claim. */
  static final String REDELIVER = "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now(),"
      + " schedule_from = attempts, claim = NULL, finished_at = NULL, updated_at = now()"
      + " WHERE id = $1 AND profile_id = $2 RETURNING " + DELIVERY_COLUMNS;

  /** The deployment to rotate the secret of, locked; no row when the profile has no such deployment. */
  static final String FOR_ROTATION = """
      SELECT d.notification->>'method' AS method, e.deployment_id IS NOT NULL AS has_secret
      FROM deployments d LEFT JOIN webhook_endpoints e ON e.deployment_id = d.id
      WHERE d.id = $1 AND d.profile_id = $2
      FOR UPDATE OF d
      """;

  /** The new secret $3 signs from now on; the current one also signs until $4 seconds from now. */
  static final String ROTATE = """
      UPDATE webhook_endpoints SET previous_secret = secret, secret = $3,
        previous_secret_expires_at = now() + $4::bigint * interval '1 second', rotated_at = now()
      WHERE deployment_id = $1 AND profile_id = $2
      RETURNING previous_secret_expires_at
      """;

  /** A deployment that has a webhook but no secret yet (declared in a file) gets its first one. */
  static final String FIRST_SECRET = """
      INSERT INTO webhook_endpoints (deployment_id, profile_id, secret, rotated_at) VALUES ($1, $2, $3, now())
      """;

  /** How many deliveries wait and how old the oldest is (seconds), for the queue gauges. */
  static final String QUEUE_STATS = """
      SELECT count(*) AS pending, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest
      FROM webhook_deliveries WHERE state = 'pending'
      """;

  /** Ended deliveries older than the retention ($1 days) leave the log. */
  static final String PURGE = """
      DELETE FROM webhook_deliveries
      WHERE state <> 'pending' AND finished_at < now() - $1::int * interval '1 day'
      """;

  private WebhookSql() {
  }
}
