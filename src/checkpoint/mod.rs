//! Signed checkpoints: the ledger's head (position, hash, time, entry
//! count, totals per currency) signed with an Ed25519 key that lives in the
//! user's config directory, never in the ledger. The hash chain alone shows
//! that events were not changed without recomputing the chain; a
//! checkpoint shows that the chain up to its position is the one that was
//! signed, which someone with write access to the database cannot forge
//! without the key.

pub mod key;

use crate::error::{Error, Result};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use std::collections::BTreeMap;
use std::path::Path;

/// The first line of what is signed, and the file's `format`.
pub const FORMAT: &str = "gencost checkpoint 1";

/// What a checkpoint states about the ledger.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Head {
    /// The position (seq) of the last event.
    pub position: i64,
    /// That event's hash, hex.
    pub hash: String,
    /// When the checkpoint was made (RFC 3339, UTC).
    pub time: String,
    /// Entries in the ledger (voided ones included); left out of the
    /// checkpoint a report carries, as are the totals (a client's report
    /// must not tell the studio's whole business).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<i64>,
    /// The totals' cost (actual where known, else the estimate) of live,
    /// charged entries, per currency, exact: `{"USD": "12.345"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub totals: BTreeMap<String, String>,
}

/// A signed head, as written to a checkpoint file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub format: String,
    #[serde(flatten)]
    pub head: Head,
    /// The Ed25519 public key that signed it, hex.
    pub public_key: String,
    /// The signature of `signed_text`, hex.
    pub signature: String,
}

impl Head {
    /// The exact text that is signed: one fact per line, totals in code
    /// order, so any change to any figure breaks the signature.
    pub fn signed_text(&self) -> String {
        let mut text = format!(
            "{FORMAT}\nposition {}\nhash {}\ntime {}\n",
            self.position, self.hash, self.time
        );
        if let Some(entries) = self.entries {
            text.push_str(&format!("entries {entries}\n"));
        }
        for (currency, amount) in &self.totals {
            text.push_str(&format!("total {currency} {amount}\n"));
        }
        text
    }

    pub fn sign(self, key: &SigningKey) -> Checkpoint {
        let signature = key.sign(self.signed_text().as_bytes());
        Checkpoint {
            format: FORMAT.to_string(),
            public_key: hex::encode(key.verifying_key().as_bytes()),
            signature: hex::encode(signature.to_bytes()),
            head: self,
        }
    }
}

impl Checkpoint {
    /// Checks the signature against the public key the checkpoint names;
    /// `trusted`, when given, must be that key.
    pub fn check_signature(&self, trusted: Option<&VerifyingKey>) -> Result<()> {
        if self.format != FORMAT {
            return Err(Error::input(format!(
                "not a checkpoint this gencost reads (format '{}', expected '{FORMAT}')",
                self.format
            )));
        }
        let key = public_key(&self.public_key)?;
        if let Some(trusted) = trusted {
            if trusted != &key {
                return Err(Error::input(format!(
                    "the checkpoint was signed by key {}, not by the key it must be signed by ({}: this user's, or --public-key)",
                    self.public_key,
                    hex::encode(trusted.as_bytes())
                )));
            }
        }
        let bytes: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Error::input("the checkpoint's signature is not 64 bytes of hex"))?;
        key.verify(
            self.head.signed_text().as_bytes(),
            &Signature::from_bytes(&bytes),
        )
        .map_err(|_| {
            Error::input(format!(
                "the checkpoint's signature does not match what it states (position {}): it was altered after signing",
                self.head.position
            ))
        })
    }

    /// A checkpoint file (JSON), or a report carrying one, named in any
    /// error.
    pub fn read(path: &Path) -> Result<Checkpoint> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::input(format!("cannot read {}: {e}", path.display())))?;
        let json = match text.trim_start().starts_with('<') {
            true => embedded(&text).ok_or_else(|| {
                Error::input(format!(
                    "{}: the report carries no signed checkpoint (it was made without a checkpoint key)",
                    path.display()
                ))
            })?,
            false => &text,
        };
        serde_json::from_str(json)
            .map_err(|e| Error::input(format!("{}: not a gencost checkpoint: {e}", path.display())))
    }
}

/// The checkpoint a report carries: the JSON of its
/// `<script type="application/json" id="gencost-checkpoint">` element.
fn embedded(html: &str) -> Option<&str> {
    const OPEN: &str = r#"<script type="application/json" id="gencost-checkpoint">"#;
    let start = html.find(OPEN)? + OPEN.len();
    let end = start + html[start..].find("</script>")?;
    Some(&html[start..end])
}

/// An Ed25519 public key from hex.
pub fn public_key(text: &str) -> Result<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            Error::input(format!(
                "'{text}' is not an Ed25519 public key (64 hex digits)"
            ))
        })?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| Error::input(format!("'{text}' is not a valid Ed25519 public key")))
}

/// Micro-units as an exact decimal: `12345000` is `12.345`, `0` is `0`.
pub fn exact_decimal(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let abs = i128::from(micros).abs();
    let whole = abs / 1_000_000;
    let fraction = format!("{:06}", abs % 1_000_000);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> Head {
        Head {
            position: 42,
            hash: "ab".repeat(32),
            time: "2026-12-07T15:00:00Z".into(),
            entries: Some(40),
            totals: BTreeMap::from([("USD".into(), "12.345".into()), ("EUR".into(), "1".into())]),
        }
    }

    #[test]
    fn a_signed_head_checks_and_any_changed_figure_does_not() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let checkpoint = head().sign(&key);
        checkpoint
            .check_signature(Some(&key.verifying_key()))
            .unwrap();
        assert!(checkpoint
            .head
            .signed_text()
            .ends_with("total EUR 1\ntotal USD 12.345\n"));
        let mut altered = checkpoint.clone();
        altered.head.totals.insert("USD".into(), "12.346".into());
        let error = altered.check_signature(None).unwrap_err().to_string();
        assert!(error.contains("altered after signing"), "{error}");
        let mut altered = checkpoint.clone();
        altered.head.position = 41;
        assert!(altered.check_signature(None).is_err());
        // Another key's signature is refused when this user's key is asked for.
        let other = SigningKey::from_bytes(&[8u8; 32]);
        let error = checkpoint
            .check_signature(Some(&other.verifying_key()))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("not by the key it must be signed by"),
            "{error}"
        );
    }

    #[test]
    fn exact_decimals() {
        assert_eq!(exact_decimal(12_345_000), "12.345");
        assert_eq!(exact_decimal(0), "0");
        assert_eq!(exact_decimal(-4), "-0.000004");
        assert_eq!(exact_decimal(i64::MIN), "-9223372036854.775808");
    }
}
