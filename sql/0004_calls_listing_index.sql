-- `ringback calls list` shows a restaurant's calls newest `occurred_at` first, optionally between
-- two instants. This index lets SQLite walk them backwards from the upper bound and stop at the
-- limit; seq, the rowid, ends every index entry, so equal times keep their arrival order.
CREATE INDEX calls_listing ON calls (restaurant_id, occurred_at);

-- Only that listing walked (restaurant_id, seq): one index fewer to write on every report.
DROP INDEX calls_restaurant_seq;
