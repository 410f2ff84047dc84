-- WhatsApp access tokens are sealed at rest (SPEC §8.2): XChaCha20-Poly1305 under a key file kept
-- apart from the database. SQL cannot seal, so the tokens an earlier release stored in plaintext
-- (wa_access_token) are moved here by the first start after the upgrade, which then empties the
-- old column; nothing writes it any more.
ALTER TABLE restaurants ADD COLUMN wa_access_token_sealed BLOB;
