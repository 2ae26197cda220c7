-- Job records of the edge API (src/api/ports.ts JobRecord): one row per job, written by the Worker
-- (POST /v1/jobs, the Cron Trigger) and by the AssessWorkflow's steps (running, progress, outcome).
CREATE TABLE IF NOT EXISTS jobs (
  id          TEXT PRIMARY KEY,
  partner     TEXT NOT NULL,
  key_id      TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  name        TEXT,
  cell_bands  INTEGER,
  tiles_done  INTEGER,
  tiles_total INTEGER,
  result_key  TEXT,
  error       TEXT -- JSON: { code, detail, hint?, problems? }
);
CREATE INDEX IF NOT EXISTS jobs_partner_created ON jobs (partner, created_at);
