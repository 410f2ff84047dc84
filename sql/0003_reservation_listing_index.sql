-- The partner API lists a restaurant's reservations ordered by (start_at, id), a page at a time
-- from a cursor on that pair. With id in the index SQLite walks it from the cursor in order and
-- stops at the page's end, instead of sorting every reservation of the restaurant for each page.
CREATE INDEX reservations_listing ON reservations (restaurant_id, start_at, id);

-- Its prefix (restaurant_id, start_at) serves nothing the new index does not: one index fewer to
-- write on every insert.
DROP INDEX reservations_restaurant_start;
