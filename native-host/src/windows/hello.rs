//! Windows Hello user verification through
//! [`UserConsentVerifier`](https://learn.microsoft.com/uwp/api/windows.security.credentials.ui.userconsentverifier):
//! `CheckAvailabilityAsync` for the capability, and
//! [`IUserConsentVerifierInterop::RequestVerificationForWindowAsync`](https://learn.microsoft.com/windows/win32/api/userconsentverifierinterop/nf-userconsentverifierinterop-iuserconsentverifierinterop-requestverificationforwindowasync)
//! parented to the browser window (a desktop process has no CoreWindow, so the plain
//! `RequestVerificationAsync` is only the fallback when the interop factory is missing).
//! This is a yes/no answer, not bound to any key: the OS-held key uses `keycred` instead.

use super::{init_apartment, parent_hwnd, wait};
use crate::cancel::CancelToken;
use crate::verifier::{UserVerifier, VerifyError};
use latchkey_core::host::{Availability, VerificationMethod};
use windows::Security::Credentials::UI::{
    UserConsentVerificationResult, UserConsentVerifier, UserConsentVerifierAvailability,
};
use windows::Win32::System::WinRT::IUserConsentVerifierInterop;
use windows_core::HSTRING;
use windows_future::IAsyncOperation;

/// Windows Hello via `UserConsentVerifier`.
#[derive(Debug, Clone, Copy, Default)]
pub struct HelloVerifier;

fn map_result(r: UserConsentVerificationResult) -> Result<VerificationMethod, VerifyError> {
    match r {
        UserConsentVerificationResult::Verified => Ok(VerificationMethod::WindowsHello),
        UserConsentVerificationResult::Canceled => Err(VerifyError::Denied(
            "Windows Hello: cancelled by the user".to_owned(),
        )),
        UserConsentVerificationResult::RetriesExhausted => Err(VerifyError::Denied(
            "Windows Hello: too many attempts".to_owned(),
        )),
        UserConsentVerificationResult::DeviceNotPresent => Err(VerifyError::Unavailable(
            "Windows Hello: no device".to_owned(),
        )),
        UserConsentVerificationResult::NotConfiguredForUser => Err(VerifyError::Unavailable(
            "Windows Hello is not set up".to_owned(),
        )),
        UserConsentVerificationResult::DisabledByPolicy => Err(VerifyError::Unavailable(
            "Windows Hello is disabled by policy".to_owned(),
        )),
        UserConsentVerificationResult::DeviceBusy => {
            Err(VerifyError::Unavailable("Windows Hello is busy".to_owned()))
        }
        _ => Err(VerifyError::Failed(
            "Windows Hello: unknown result".to_owned(),
        )),
    }
}

impl UserVerifier for HelloVerifier {
    fn availability(&self) -> Availability {
        init_apartment();
        let check = || -> windows_core::Result<Option<UserConsentVerifierAvailability>> {
            wait(
                &UserConsentVerifier::CheckAvailabilityAsync()?,
                &CancelToken::new(),
            )
        };
        match check() {
            Ok(Some(UserConsentVerifierAvailability::Available)) => Availability::Available,
            _ => Availability::Unavailable,
        }
    }

    fn verify(
        &self,
        reason: &str,
        parent_window: Option<u64>,
        cancel: &CancelToken,
    ) -> Result<VerificationMethod, VerifyError> {
        init_apartment();
        let message = HSTRING::from(reason);
        let hwnd = parent_hwnd(parent_window);
        let op: IAsyncOperation<UserConsentVerificationResult> =
            match windows_core::factory::<UserConsentVerifier, IUserConsentVerifierInterop>() {
                // SAFETY: `hwnd` is a window handle or null; `message` outlives the call.
                #[allow(unsafe_code)]
                Ok(interop) => unsafe { interop.RequestVerificationForWindowAsync(hwnd, &message) },
                Err(_) => UserConsentVerifier::RequestVerificationAsync(&message),
            }
            .map_err(|e| VerifyError::Failed(format!("Windows Hello: {}", e.message())))?;
        match wait(&op, cancel) {
            Ok(Some(r)) => map_result(r),
            Ok(None) => Err(VerifyError::Cancelled),
            Err(e) => Err(VerifyError::Failed(format!(
                "Windows Hello: {}",
                e.message()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "needs Windows with Windows Hello set up and a person at the prompt"]
    fn real_windows_hello_prompt() {
        let v = HelloVerifier;
        eprintln!("availability: {:?}", v.availability());
        eprintln!(
            "verify: {:?}",
            v.verify("Latchkey test", None, &CancelToken::new())
        );
    }

    #[test]
    fn results_map_honestly() {
        assert_eq!(
            map_result(UserConsentVerificationResult::Verified),
            Ok(VerificationMethod::WindowsHello)
        );
        assert!(matches!(
            map_result(UserConsentVerificationResult::Canceled),
            Err(VerifyError::Denied(_))
        ));
        assert!(matches!(
            map_result(UserConsentVerificationResult::NotConfiguredForUser),
            Err(VerifyError::Unavailable(_))
        ));
    }
}
