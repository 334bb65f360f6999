-- Where a session was started (see web::sessions::Client): the browser's
-- User-Agent, cut short, and a coarse address, never the full one.
ALTER TABLE admin_sessions ADD COLUMN user_agent TEXT;
ALTER TABLE admin_sessions ADD COLUMN ip TEXT;
