-- Sessions, turns, query log, feedback and the Slack bot's memory (see agent/session_store.py and
-- web/slack_store.py). JSON, not JSONB: the text comes back as written (key order included), as from DuckDB.
CREATE TABLE sessions (
    id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    turn_count INTEGER NOT NULL,
    state JSON NOT NULL,
    last_answer_sha VARCHAR,
    owner VARCHAR
);
CREATE INDEX sessions_updated_at ON sessions (updated_at);
CREATE TABLE turns (
    session_id VARCHAR NOT NULL,
    idx INTEGER NOT NULL,
    ts TIMESTAMP NOT NULL,
    user_text VARCHAR NOT NULL,
    answer VARCHAR NOT NULL,
    messages JSON NOT NULL,
    book_ids VARCHAR[] NOT NULL,
    model VARCHAR,
    fell_back BOOLEAN NOT NULL,
    PRIMARY KEY (session_id, idx)
);
CREATE TABLE query_log (
    id VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    session_id VARCHAR,
    surface VARCHAR NOT NULL,
    client VARCHAR,
    message VARCHAR NOT NULL,
    model VARCHAR,
    fell_back BOOLEAN NOT NULL,
    status VARCHAR NOT NULL,
    error_code VARCHAR,
    book_ids VARCHAR[] NOT NULL,
    tool_calls JSON NOT NULL,
    first_event_ms DOUBLE PRECISION,
    total_ms DOUBLE PRECISION,
    usage JSON
);
CREATE INDEX query_log_session ON query_log (session_id, ts);
CREATE INDEX query_log_ts ON query_log (ts);
CREATE TABLE feedback (
    ts TIMESTAMP NOT NULL,
    session_id VARCHAR NOT NULL,
    book_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL
);
CREATE INDEX feedback_session ON feedback (session_id, ts);
CREATE TABLE slack_threads (
    thread_key VARCHAR PRIMARY KEY,
    session_id VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE slack_events (
    event_key VARCHAR PRIMARY KEY,
    received_at TIMESTAMP NOT NULL
);
