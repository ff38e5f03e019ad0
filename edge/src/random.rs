//! Randomness from the runtime's CSPRNG (`crypto.getRandomValues`).

use till_core::error::ApiError;
use till_core::ids::{new_id, IdKind};

pub fn bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).map_err(|e| {
        crate::log_error!("random: {e}");
        ApiError::internal()
    })?;
    Ok(out)
}

pub fn id(kind: IdKind) -> Result<String, ApiError> {
    Ok(new_id(kind, bytes()?))
}
