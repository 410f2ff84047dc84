//! A string that never shows itself in `Debug` or `Display`, so no log can leak it.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Random alphanumeric characters from the OS-seeded generator: ids and tokens.
pub fn random_alphanumeric(len: usize) -> String {
    use rand::RngExt;
    use rand::distr::Alphanumeric;
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A new opaque id with its type prefix: `call_…`, `cus_…`, `res_…`, `rst_…`, `tok_…`.
///
/// The first 8 characters encode the creation time, so new ids sort after old ones: each insert
/// lands at the end of the id index instead of on a random page, which keeps the single writer's
/// commits small as the ledger grows. The 12 random characters that follow keep ids unguessable.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}{}", time_stamp(), random_alphanumeric(12))
}

/// The current time in 8 base-62 digits, sorting as time does: the head of a key that should
/// land at the end of its index.
pub fn time_stamp() -> String {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut time = u64::try_from(crate::time::now_ms()).unwrap_or(0);
    let mut stamp = [b'0'; 8];
    for digit in stamp.iter_mut().rev() {
        *digit = DIGITS[(time % 62) as usize];
        time /= 62;
    }
    String::from_utf8_lossy(&stamp).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_sort_by_creation_time() {
        let first = new_id("call");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_id("call");
        assert!(first.starts_with("call_") && first.len() == 25, "{first}");
        assert!(first < second, "{first} {second}");
    }
}
