-- Start and stop act on every node (issue #4): the wanted state is stored with the server, and every change to a
-- server bumps its revision. The change trigger of V4 announces each update; a node applies a server's row only when
-- its revision is newer than the one it runs, so a slow re-read can never undo a later change.
ALTER TABLE inference_servers
  ADD COLUMN desired_state  text NOT NULL DEFAULT 'started' CHECK (desired_state IN ('started', 'stopped')),
  ADD COLUMN revision       bigint NOT NULL DEFAULT 1,
  ADD COLUMN updated_at     timestamptz NOT NULL DEFAULT now();
