-- Provenance of an answer: the model pack's signature when the answer was made ("trusted: NAME (fingerprint)",
-- "untrusted: fingerprint" or "unsigned"; PACK_CONTRACT.md "Signature"). NULL for answers stored before it was recorded.
ALTER TABLE turns ADD COLUMN pack_signature TEXT;
