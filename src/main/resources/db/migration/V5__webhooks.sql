-- Webhooks (DESIGN §2.3). A deployment's callback URL and events stay in deployments.notification; its signing
-- secret lives here, apart from what the hot path caches and what deployment reads return. After a rotation the
-- previous secret still signs until previous_secret_expires_at. A receiver that answers 410 Gone disables it.
CREATE TABLE webhook_endpoints (
  deployment_id               uuid PRIMARY KEY REFERENCES deployments (id) ON DELETE CASCADE,
  profile_id                  uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
  secret                      text NOT NULL,
  previous_secret             text,
  previous_secret_expires_at  timestamptz,
  disabled_at                 timestamptz,
  disabled_reason             text,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  rotated_at                  timestamptz
);

-- One message to one deployment's endpoint: its event and the exact payload signed and sent at every attempt. The
-- queue of due deliveries (state 'pending', next_attempt_at) and the delivery log in one. message_id is the
-- webhook-id, one per run and event, so an event relayed twice from the outbox is stored once. A node that takes a
-- delivery sets claim and moves next_attempt_at past its attempt's deadline: if it dies, the delivery falls due
-- again. schedule_from is the attempt count when the current retry schedule began (a redelivery starts a new one).
CREATE TABLE webhook_deliveries (
  id               uuid PRIMARY KEY,
  message_id       text NOT NULL UNIQUE,
  profile_id       uuid NOT NULL,
  deployment_id    uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  run_id           uuid NOT NULL,
  event_type       text NOT NULL,
  payload          text NOT NULL,
  state            text NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed', 'skipped')),
  attempts         integer NOT NULL DEFAULT 0,
  schedule_from    integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz,
  claim            uuid,
  last_status      integer,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (deployment_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_ended ON webhook_deliveries (finished_at) WHERE state <> 'pending';

-- Every attempt of a delivery: when, how long, the HTTP status or the error, and the first bytes of the answer.
CREATE TABLE webhook_attempts (
  delivery_id    uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt        integer NOT NULL,
  started_at     timestamptz NOT NULL,
  duration_ms    double precision,
  status_code    integer,
  error          text,
  response_body  text,
  PRIMARY KEY (delivery_id, attempt)
);
