//! The Windows Hello key behind the OS-held vault key:
//! [`KeyCredentialManager`](https://learn.microsoft.com/uwp/api/windows.security.credentials.keycredentialmanager)
//! `RequestCreateAsync` / `OpenAsync`, then `KeyCredential::RequestSignAsync` (Hello prompt every
//! time). The key is RSA-2048 in the Microsoft Passport KSP, signing RSASSA-PKCS1-v1_5/SHA-256,
//! which is deterministic, so the same message always gives the same signature.

use super::{init_apartment, wait};
use crate::cancel::CancelToken;
use crate::oskey::{KeyCredentialApi, KeyMaterial, OsKeyError};
use latchkey_core::host::Availability;
use windows::Security::Credentials::{
    KeyCredentialCreationOption, KeyCredentialManager, KeyCredentialStatus,
};
use windows::Security::Cryptography::CryptographicBuffer;
use windows_core::{Array, HSTRING};

/// The real `KeyCredentialManager`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WinKeyCredentials;

fn win(e: &windows_core::Error) -> OsKeyError {
    OsKeyError::Failed(format!("Windows Hello key: {}", e.message()))
}

fn status_error(s: KeyCredentialStatus) -> OsKeyError {
    match s {
        KeyCredentialStatus::NotFound => OsKeyError::KeyNotFound,
        KeyCredentialStatus::CredentialAlreadyExists => OsKeyError::KeyExists,
        KeyCredentialStatus::UserCanceled | KeyCredentialStatus::UserPrefersPassword => {
            OsKeyError::Denied("Windows Hello: cancelled by the user".to_owned())
        }
        KeyCredentialStatus::SecurityDeviceLocked => {
            OsKeyError::Unavailable("Windows Hello: the security device is locked".to_owned())
        }
        _ => OsKeyError::Failed("Windows Hello key: unknown error".to_owned()),
    }
}

impl KeyCredentialApi for WinKeyCredentials {
    fn availability(&self) -> Availability {
        init_apartment();
        let supported =
            KeyCredentialManager::IsSupportedAsync().and_then(|op| wait(&op, &CancelToken::new()));
        match supported {
            Ok(Some(true)) => Availability::Available,
            _ => Availability::Unavailable,
        }
    }

    fn create(&self, name: &str, replace: bool, cancel: &CancelToken) -> Result<(), OsKeyError> {
        init_apartment();
        let option = if replace {
            KeyCredentialCreationOption::ReplaceExisting
        } else {
            KeyCredentialCreationOption::FailIfExists
        };
        let op = KeyCredentialManager::RequestCreateAsync(&HSTRING::from(name), option)
            .map_err(|e| win(&e))?;
        let result = wait(&op, cancel)
            .map_err(|e| win(&e))?
            .ok_or(OsKeyError::Cancelled)?;
        match result.Status().map_err(|e| win(&e))? {
            KeyCredentialStatus::Success => Ok(()),
            s => Err(status_error(s)),
        }
    }

    fn sign(
        &self,
        name: &str,
        data: &[u8],
        cancel: &CancelToken,
    ) -> Result<KeyMaterial, OsKeyError> {
        init_apartment();
        let op = KeyCredentialManager::OpenAsync(&HSTRING::from(name)).map_err(|e| win(&e))?;
        let opened = wait(&op, cancel)
            .map_err(|e| win(&e))?
            .ok_or(OsKeyError::Cancelled)?;
        match opened.Status().map_err(|e| win(&e))? {
            KeyCredentialStatus::Success => {}
            s => return Err(status_error(s)),
        }
        let credential = opened.Credential().map_err(|e| win(&e))?;
        let buffer = CryptographicBuffer::CreateFromByteArray(data).map_err(|e| win(&e))?;
        let op = credential.RequestSignAsync(&buffer).map_err(|e| win(&e))?;
        let signed = wait(&op, cancel)
            .map_err(|e| win(&e))?
            .ok_or(OsKeyError::Cancelled)?;
        match signed.Status().map_err(|e| win(&e))? {
            KeyCredentialStatus::Success => {}
            s => return Err(status_error(s)),
        }
        let sig_buffer = signed.Result().map_err(|e| win(&e))?;
        let mut sig = Array::<u8>::new();
        CryptographicBuffer::CopyToByteArray(&sig_buffer, &mut sig).map_err(|e| win(&e))?;
        Ok(KeyMaterial::new(sig.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oskey::{derive_key, KeyCredentialStore, OsKeyStore};

    #[test]
    #[ignore = "needs Windows with Windows Hello set up and a person at two prompts"]
    fn real_hello_key_is_deterministic() {
        let store = KeyCredentialStore::new(WinKeyCredentials);
        let id = latchkey_core::host::KeyId::try_from("latchkey-test".to_owned())
            .unwrap_or_else(|_| unreachable!());
        let t = CancelToken::new();
        let a = store
            .create(&id, true, None, &t)
            .map(|(m, _)| derive_key(&m, &id, b""));
        let b = store
            .release(&id, None, &t)
            .map(|(m, _)| derive_key(&m, &id, b""));
        match (a, b) {
            (Ok(Ok(a)), Ok(Ok(b))) => assert_eq!(a.as_bytes(), b.as_bytes()),
            other => eprintln!("{other:?}"),
        }
    }
}
