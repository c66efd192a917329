//! `Idempotency-Key` on creating POSTs.
