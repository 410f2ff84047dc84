-- Why a reservation was cancelled over the partner API (POST …/reservations/{id}/cancel).
ALTER TABLE reservations ADD COLUMN cancel_reason TEXT;
