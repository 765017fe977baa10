//! The crate's one wall clock for token times: `exp`, `nbf` and `iat` are seconds since the Unix
//! epoch (`NumericDate`, RFC 7519 §2).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch now (0 if the clock is before 1970).
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
