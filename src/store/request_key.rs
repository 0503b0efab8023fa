//! The key entries are found by their provider request id: the first eight
//! bytes of the id's SHA-256, as a signed big-endian integer.
//!
//! Request ids are random, so every bulk commit touches most pages of the
//! index that finds them; an 8-byte key keeps that index a fifth of the size
//! of one on the text, and bulk logging writes that much less. A key can be
//! shared by two ids, so lookups also compare the id itself.

use sha2::{Digest, Sha256};

/// Name of the same function in SQLite, for SQL that fills in keys.
pub const SQL_FUNCTION: &str = "gencost_request_key";

pub fn request_key(request_id: &str) -> i64 {
    let digest = Sha256::digest(request_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_the_first_eight_bytes_of_the_sha256() {
        // sha256("abc") = ba7816bf8f01cfea 414140de5dae2223 ...
        assert_eq!(request_key("abc"), 0xba78_16bf_8f01_cfea_u64 as i64);
        // sha256("") = e3b0c44298fc1c14 ...
        assert_eq!(request_key(""), 0xe3b0_c442_98fc_1c14_u64 as i64);
    }
}
