//! Provider secrets at rest: AES-256-GCM under `PURSE_MASTER_KEY` (base64 of 32 bytes), a fresh
//! random 96-bit nonce per secret. Only the ciphertext, its nonce and the last four characters
//! (for the admin page) are stored; the plaintext lives in memory only while a provider adapter
//! is built from it.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// The AES-256-GCM nonce length in bytes.
const NONCE_LEN: usize = 12;

/// Why a master key or a sealed secret is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretBoxError {
    /// `PURSE_MASTER_KEY` is not base64 of exactly 32 bytes.
    #[error("PURSE_MASTER_KEY must be base64 of exactly 32 bytes")]
    BadKey,
    /// The sealed secret does not open under this key (another key, or tampered).
    #[error("a stored provider secret does not decrypt under PURSE_MASTER_KEY")]
    Undecryptable,
}

/// A secret as stored: ciphertext and nonce in base64, plus the last four characters shown to
/// admins (`{"configured": true, "last4": "…"}`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSecret {
    /// The nonce, base64.
    pub nonce: String,
    /// The ciphertext with its tag, base64.
    pub ciphertext: String,
    /// The last four characters of the plaintext.
    pub last4: String,
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedSecret")
            .field("last4", &self.last4)
            .finish_non_exhaustive()
    }
}

/// The master key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox([REDACTED])")
    }
}

impl SecretBox {
    /// Parses `PURSE_MASTER_KEY`.
    ///
    /// # Errors
    /// [`SecretBoxError::BadKey`] unless it is base64 of 32 bytes.
    pub fn from_base64(key: &str) -> Result<Self, SecretBoxError> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| SecretBoxError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SecretBoxError::BadKey);
        }
        let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| SecretBoxError::BadKey)?;
        Ok(Self { cipher })
    }

    /// Encrypts a secret under a fresh random nonce.
    pub fn seal(&self, plaintext: &str) -> SealedSecret {
        let mut nonce = [0_u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        // Encryption into a Vec cannot fail for inputs below GCM's 64 GiB limit.
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .unwrap_or_default();
        let chars: Vec<char> = plaintext.chars().collect();
        let last4: String = chars[chars.len().saturating_sub(4)..].iter().collect();
        SealedSecret {
            nonce: STANDARD.encode(nonce),
            ciphertext: STANDARD.encode(ciphertext),
            last4,
        }
    }

    /// Decrypts a stored secret.
    ///
    /// # Errors
    /// [`SecretBoxError::Undecryptable`] under another key or when tampered with.
    pub fn open(&self, sealed: &SealedSecret) -> Result<String, SecretBoxError> {
        let nonce = STANDARD
            .decode(&sealed.nonce)
            .ok()
            .filter(|nonce| nonce.len() == NONCE_LEN)
            .ok_or(SecretBoxError::Undecryptable)?;
        let ciphertext = STANDARD
            .decode(&sealed.ciphertext)
            .map_err(|_| SecretBoxError::Undecryptable)?;
        let plaintext = self
            .cipher
            .decrypt(Nonce::from_slice(&nonce), ciphertext.as_slice())
            .map_err(|_| SecretBoxError::Undecryptable)?;
        String::from_utf8(plaintext).map_err(|_| SecretBoxError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretBox {
        SecretBox::from_base64(&STANDARD.encode([7_u8; 32])).unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_under_its_key_and_hides_the_plaintext() {
        let sealed = key().seal("sk_live_abcdef1234");

        assert_eq!(key().open(&sealed).unwrap(), "sk_live_abcdef1234");
        assert_eq!(sealed.last4, "1234");
        assert!(!sealed.ciphertext.contains("abcdef"));
        assert!(!format!("{sealed:?}").contains("ciphertext"));
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let first = key().seal("same");
        let second = key().seal("same");

        assert_ne!(first.nonce, second.nonce);
        assert_ne!(first.ciphertext, second.ciphertext);
    }

    #[test]
    fn another_key_or_a_tampered_ciphertext_does_not_open() {
        let sealed = key().seal("secret");
        let other = SecretBox::from_base64(&STANDARD.encode([8_u8; 32])).unwrap();
        let mut tampered = sealed.clone();
        tampered.ciphertext = STANDARD.encode(b"not the ciphertext at all");

        assert_eq!(other.open(&sealed), Err(SecretBoxError::Undecryptable));
        assert_eq!(key().open(&tampered), Err(SecretBoxError::Undecryptable));
    }

    #[test]
    fn a_key_of_the_wrong_length_is_refused() {
        assert!(SecretBox::from_base64(&STANDARD.encode([1_u8; 16])).is_err());
        assert!(SecretBox::from_base64("not base64!").is_err());
    }
}
