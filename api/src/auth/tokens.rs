//! Access tokens (HS256 JWT, nothing else accepted) and refresh-token material.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub role: String,
    /// The user's token epoch when issued; a token of an older epoch is refused. Tokens made
    /// before epochs existed carry none and count as epoch 0, the column's default.
    #[serde(default)]
    pub ep: i32,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Signs links the pages hand out (a tracking page's photos); derived from the secret.
    link_key: Vec<u8>,
    pub access_ttl_secs: i64,
}

impl TokenKeys {
    pub fn from_secret(secret: &[u8], access_ttl_secs: i64) -> Self {
        // Only HS256: a token whose header names another algorithm (or `none`) is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            link_key: Sha256::new()
                .chain_update(b"minqing-link-signing:")
                .chain_update(secret)
                .finalize()
                .to_vec(),
            access_ttl_secs,
        }
    }

    pub fn issue(
        &self,
        user_id: &str,
        role: &str,
        epoch: i32,
        now: DateTime<Utc>,
    ) -> ApiResult<String> {
        let claims = AccessClaims {
            sub: user_id.to_string(),
            role: role.to_string(),
            ep: epoch,
            iat: now.timestamp(),
            exp: now.timestamp() + self.access_ttl_secs,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("signing a token: {e}")))
    }

    /// An HMAC-SHA256 signature of `message`, hex, for links that must not be forged.
    pub fn sign_link(&self, message: &str) -> String {
        hex::encode(self.link_mac(message).finalize().into_bytes())
    }

    /// Checks a signature made by `sign_link`, in constant time.
    pub fn verify_link(&self, message: &str, signature: &str) -> bool {
        hex::decode(signature).is_ok_and(|sig| self.link_mac(message).verify_slice(&sig).is_ok())
    }

    fn link_mac(&self, message: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.link_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(message.as_bytes());
        mac
    }

    pub fn verify(&self, token: &str) -> ApiResult<AccessClaims> {
        decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| ApiError::Unauthenticated("the access token is invalid or expired".into()))
    }
}

/// 32 random bytes, base64url: the secret the server generates when none is configured.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Only a hash of a refresh token is stored, so a leaked table holds no usable tokens.
pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_links_verify_only_unchanged_and_with_the_same_secret() {
        let keys = TokenKeys::from_secret(b"secret-for-tests", 900);
        let sig = keys.sign_link("photo:m1:thumb:1700000000");
        assert!(keys.verify_link("photo:m1:thumb:1700000000", &sig));
        assert!(!keys.verify_link("photo:m2:thumb:1700000000", &sig));
        assert!(!keys.verify_link("photo:m1:thumb:1700000000", "zz"));
        let other = TokenKeys::from_secret(b"another-secret", 900);
        assert!(!other.verify_link("photo:m1:thumb:1700000000", &sig));
    }

    #[test]
    fn issued_tokens_verify_and_others_do_not() {
        let keys = TokenKeys::from_secret(b"secret-for-tests", 900);
        let now = Utc::now();
        let token = keys.issue("user-1", "cadre", 3, now).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.sub, "user-1");
        assert_eq!(claims.ep, 3);
        assert_eq!(claims.exp - claims.iat, 900);

        let other = TokenKeys::from_secret(b"another-secret", 900);
        assert!(other.verify(&token).is_err());

        let expired = keys
            .issue("user-1", "cadre", 0, now - chrono::Duration::hours(1))
            .unwrap();
        assert!(keys.verify(&expired).is_err());

        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &AccessClaims {
                sub: "user-1".into(),
                role: "admin".into(),
                ep: 0,
                iat: now.timestamp(),
                exp: now.timestamp() + 900,
            },
            &EncodingKey::from_secret(b"secret-for-tests"),
        )
        .unwrap();
        assert!(keys.verify(&hs512).is_err());
    }

    #[test]
    fn refresh_material() {
        assert_ne!(random_secret(), random_secret());
        assert_eq!(hash_refresh_token("abc").len(), 64);
    }
}
