-- Every change that a tile or a count can show is announced on the channel
-- tensionmap_data when its transaction commits, so that each serve process (on
-- the primary or reading from a replica) learns of new data by LISTEN rather than
-- by asking for the data version again and again. The payload names the table;
-- notifications of one transaction with the same payload arrive as one.
CREATE FUNCTION tensionmap_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('tensionmap_data', TG_TABLE_NAME);
	RETURN NULL;
END
$$;

CREATE TRIGGER incidents_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON incidents
	FOR EACH STATEMENT EXECUTE FUNCTION tensionmap_notify_change();
CREATE TRIGGER areas_notify AFTER INSERT OR UPDATE OR DELETE ON areas
	FOR EACH STATEMENT EXECUTE FUNCTION tensionmap_notify_change();
-- A run changes what is shown when it finishes, not when it starts: a notification
-- of nothing new would have every server ask for the version again for a while.
CREATE TRIGGER engine_runs_notify AFTER INSERT OR UPDATE OF status ON engine_runs
	FOR EACH ROW WHEN (NEW.status IN ('done', 'partial', 'cleared'))
	EXECUTE FUNCTION tensionmap_notify_change();
CREATE TRIGGER alert_events_notify AFTER INSERT ON alert_events
	FOR EACH STATEMENT EXECUTE FUNCTION tensionmap_notify_change();
