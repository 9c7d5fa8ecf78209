//! webauthn.dll ([`webauthn.h`](https://github.com/microsoft/webauthn/blob/master/webauthn.h)),
//! loaded at run time with `LoadLibraryExW` (System32 only) and `GetProcAddress`, never linked at
//! load time, so the host starts where the DLL is missing (it then reports the platform
//! authenticator "unavailable"). Calls: `WebAuthNGetApiVersionNumber`,
//! `WebAuthNAuthenticatorMakeCredential` / `WebAuthNAuthenticatorGetAssertion` (with the
//! attachment the user chose), `WebAuthNGetCancellationId` + `WebAuthNCancelCurrentOperation`
//! (from a watcher thread when the request is cancelled), `WebAuthNGetErrorName`, and the two
//! `WebAuthNFree…` functions. Only the struct layouts come from the `windows` crate.
#![allow(unsafe_code)]

use super::parent_hwnd;
use crate::cancel::CancelToken;
use crate::platform::{
    error_name_from_dll, GetAssertionParams, MakeCredentialParams, PlatformError, RawAssertion,
    RawAttestation, Uv, WebAuthnApi,
};
use latchkey_core::error::WebAuthnError;
use latchkey_core::host::Attachment;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use windows::Win32::Foundation::HWND;
use windows::Win32::Networking::WindowsWebServices::{
    WEBAUTHN_ASSERTION, WEBAUTHN_ATTESTATION_CONVEYANCE_PREFERENCE_NONE,
    WEBAUTHN_AUTHENTICATOR_ATTACHMENT_ANY, WEBAUTHN_AUTHENTICATOR_ATTACHMENT_CROSS_PLATFORM,
    WEBAUTHN_AUTHENTICATOR_ATTACHMENT_PLATFORM, WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS,
    WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS, WEBAUTHN_CLIENT_DATA,
    WEBAUTHN_COSE_CREDENTIAL_PARAMETER, WEBAUTHN_COSE_CREDENTIAL_PARAMETERS,
    WEBAUTHN_CREDENTIAL_ATTESTATION, WEBAUTHN_CREDENTIAL_EX, WEBAUTHN_CREDENTIAL_LIST,
    WEBAUTHN_CREDENTIAL_TYPE_PUBLIC_KEY, WEBAUTHN_CTAP_TRANSPORT_BLE,
    WEBAUTHN_CTAP_TRANSPORT_HYBRID, WEBAUTHN_CTAP_TRANSPORT_INTERNAL, WEBAUTHN_CTAP_TRANSPORT_NFC,
    WEBAUTHN_CTAP_TRANSPORT_USB, WEBAUTHN_HASH_ALGORITHM_SHA_256, WEBAUTHN_RP_ENTITY_INFORMATION,
    WEBAUTHN_USER_ENTITY_INFORMATION, WEBAUTHN_USER_VERIFICATION_REQUIREMENT_DISCOURAGED,
    WEBAUTHN_USER_VERIFICATION_REQUIREMENT_PREFERRED,
    WEBAUTHN_USER_VERIFICATION_REQUIREMENT_REQUIRED,
};
use windows::Win32::System::LibraryLoader::{
    GetProcAddress, LoadLibraryExW, LOAD_LIBRARY_SEARCH_SYSTEM32,
};
use windows_core::{s, w, BOOL, GUID, HRESULT, HSTRING, PCSTR, PCWSTR};

type GetApiVersionFn = unsafe extern "system" fn() -> u32;
type MakeCredentialFn = unsafe extern "system" fn(
    HWND,
    *const WEBAUTHN_RP_ENTITY_INFORMATION,
    *const WEBAUTHN_USER_ENTITY_INFORMATION,
    *const WEBAUTHN_COSE_CREDENTIAL_PARAMETERS,
    *const WEBAUTHN_CLIENT_DATA,
    *const WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS,
    *mut *mut WEBAUTHN_CREDENTIAL_ATTESTATION,
) -> HRESULT;
type GetAssertionFn = unsafe extern "system" fn(
    HWND,
    PCWSTR,
    *const WEBAUTHN_CLIENT_DATA,
    *const WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS,
    *mut *mut WEBAUTHN_ASSERTION,
) -> HRESULT;
type FreeAttestationFn = unsafe extern "system" fn(*mut WEBAUTHN_CREDENTIAL_ATTESTATION);
type FreeAssertionFn = unsafe extern "system" fn(*mut WEBAUTHN_ASSERTION);
type GetCancellationIdFn = unsafe extern "system" fn(*mut GUID) -> HRESULT;
type CancelCurrentOperationFn = unsafe extern "system" fn(*const GUID) -> HRESULT;
type GetErrorNameFn = unsafe extern "system" fn(HRESULT) -> PCWSTR;

#[derive(Clone, Copy)]
struct Fns {
    api_version: GetApiVersionFn,
    make_credential: MakeCredentialFn,
    get_assertion: GetAssertionFn,
    free_attestation: FreeAttestationFn,
    free_assertion: FreeAssertionFn,
    get_cancellation_id: Option<GetCancellationIdFn>,
    cancel_current: Option<CancelCurrentOperationFn>,
    error_name: Option<GetErrorNameFn>,
}

/// webauthn.dll's entry points, when the DLL is present.
pub struct WebAuthnDll {
    fns: Option<Fns>,
}

impl std::fmt::Debug for WebAuthnDll {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebAuthnDll")
            .field("loaded", &self.fns.is_some())
            .finish()
    }
}

/// Looks up `name` and reinterprets it as the function type `T` (a `fn` pointer type).
///
/// # Safety
/// `T` must be the exact signature of the exported function `name`.
unsafe fn proc<T: Copy>(module: windows::Win32::Foundation::HMODULE, name: PCSTR) -> Option<T> {
    // SAFETY: module is a loaded module handle; name is a NUL-terminated literal.
    let p = unsafe { GetProcAddress(module, name) }?;
    // SAFETY: the caller names the function's true signature; both are plain fn pointers.
    Some(unsafe { std::mem::transmute_copy::<_, T>(&p) })
}

impl WebAuthnDll {
    /// Loads webauthn.dll from System32 (the handle is kept for the life of the process).
    #[must_use]
    pub fn load() -> Self {
        // SAFETY: a literal DLL name restricted to System32; no other preconditions.
        let Ok(module) =
            (unsafe { LoadLibraryExW(w!("webauthn.dll"), None, LOAD_LIBRARY_SEARCH_SYSTEM32) })
        else {
            return Self { fns: None };
        };
        // SAFETY: every type below is the signature declared in webauthn.h.
        let fns = unsafe {
            (|| {
                Some(Fns {
                    api_version: proc(module, s!("WebAuthNGetApiVersionNumber"))?,
                    make_credential: proc(module, s!("WebAuthNAuthenticatorMakeCredential"))?,
                    get_assertion: proc(module, s!("WebAuthNAuthenticatorGetAssertion"))?,
                    free_attestation: proc(module, s!("WebAuthNFreeCredentialAttestation"))?,
                    free_assertion: proc(module, s!("WebAuthNFreeAssertion"))?,
                    get_cancellation_id: proc(module, s!("WebAuthNGetCancellationId")),
                    cancel_current: proc(module, s!("WebAuthNCancelCurrentOperation")),
                    error_name: proc(module, s!("WebAuthNGetErrorName")),
                })
            })()
        };
        Self { fns }
    }

    fn fns(&self) -> Result<Fns, PlatformError> {
        self.fns
            .ok_or_else(|| PlatformError::Unavailable("webauthn.dll is not present".to_owned()))
    }

    fn error(&self, fns: &Fns, hr: HRESULT, cancel: &CancelToken) -> PlatformError {
        if cancel.is_cancelled() {
            return PlatformError::Cancelled;
        }
        let name = fns
            .error_name
            // SAFETY: returns a static wide string owned by the DLL (or null).
            .map(|f| unsafe { f(hr) })
            .filter(|p| !p.is_null())
            // SAFETY: non-null, NUL-terminated.
            .and_then(|p| unsafe { p.to_string() }.ok())
            .unwrap_or_default();
        PlatformError::WebAuthn(WebAuthnError::new(
            error_name_from_dll(&name),
            format!("the platform authenticator failed (0x{:08x})", hr.0),
        ))
    }

    /// Runs `call` while a watcher thread turns `cancel` into `WebAuthNCancelCurrentOperation`.
    fn with_cancel<R>(
        &self,
        fns: &Fns,
        cancel: &CancelToken,
        call: impl FnOnce(*mut GUID) -> R,
    ) -> R {
        let mut id = GUID::zeroed();
        let have_id = fns
            .get_cancellation_id
            // SAFETY: `id` is a valid GUID out-pointer.
            .map(|f| unsafe { f(&mut id) }.is_ok())
            .unwrap_or(false);
        if !have_id {
            return call(std::ptr::null_mut());
        }
        let done = AtomicBool::new(false);
        let cancel_fn = fns.cancel_current;
        let id_copy = id;
        std::thread::scope(|s| {
            s.spawn(|| {
                while !done.load(Ordering::Acquire) {
                    if cancel.wait(Duration::from_millis(50)) {
                        if let Some(f) = cancel_fn {
                            // SAFETY: `id_copy` is the id the pending call was given.
                            let _ = unsafe { f(&id_copy) };
                        }
                        break;
                    }
                }
            });
            let r = call(&mut id);
            done.store(true, Ordering::Release);
            r
        })
    }
}

fn attachment_flag(a: Attachment) -> u32 {
    match a {
        Attachment::Any => WEBAUTHN_AUTHENTICATOR_ATTACHMENT_ANY,
        Attachment::Platform => WEBAUTHN_AUTHENTICATOR_ATTACHMENT_PLATFORM,
        Attachment::CrossPlatform => WEBAUTHN_AUTHENTICATOR_ATTACHMENT_CROSS_PLATFORM,
    }
}

fn uv_flag(u: Uv) -> u32 {
    match u {
        Uv::Required => WEBAUTHN_USER_VERIFICATION_REQUIREMENT_REQUIRED,
        Uv::Preferred => WEBAUTHN_USER_VERIFICATION_REQUIREMENT_PREFERRED,
        Uv::Discouraged => WEBAUTHN_USER_VERIFICATION_REQUIREMENT_DISCOURAGED,
    }
}

fn transports(mask: u32) -> (Vec<&'static str>, Option<&'static str>) {
    let all = [
        (WEBAUTHN_CTAP_TRANSPORT_USB, "usb"),
        (WEBAUTHN_CTAP_TRANSPORT_NFC, "nfc"),
        (WEBAUTHN_CTAP_TRANSPORT_BLE, "ble"),
        (WEBAUTHN_CTAP_TRANSPORT_INTERNAL, "internal"),
        (WEBAUTHN_CTAP_TRANSPORT_HYBRID, "hybrid"),
    ];
    let list: Vec<&'static str> = all
        .iter()
        .filter(|(f, _)| mask & f != 0)
        .map(|(_, n)| *n)
        .collect();
    let attachment = if mask == 0 {
        None
    } else if mask & WEBAUTHN_CTAP_TRANSPORT_INTERNAL != 0 {
        Some("platform")
    } else {
        Some("cross-platform")
    };
    (list, attachment)
}

/// Copies `len` bytes at `ptr` (nothing for null/0).
///
/// # Safety
/// `ptr` must point to `len` readable bytes when non-null.
unsafe fn copy(ptr: *const u8, len: u32) -> Vec<u8> {
    if ptr.is_null() || len == 0 {
        return Vec::new();
    }
    // SAFETY: per the contract above.
    unsafe { std::slice::from_raw_parts(ptr, len as usize) }.to_vec()
}

fn len32(n: usize) -> Result<u32, PlatformError> {
    u32::try_from(n)
        .map_err(|_| PlatformError::WebAuthn(WebAuthnError::type_error("a member is too large")))
}

/// Owned credential descriptors (`WEBAUTHN_CREDENTIAL_LIST`) that stay valid while borrowed.
struct CredentialList {
    _ids: Vec<Vec<u8>>,
    _items: Vec<WEBAUTHN_CREDENTIAL_EX>,
    ptrs: Vec<*mut WEBAUTHN_CREDENTIAL_EX>,
    list: WEBAUTHN_CREDENTIAL_LIST,
}

impl CredentialList {
    fn new(ids: &[Vec<u8>]) -> Result<Box<Self>, PlatformError> {
        let mut ids: Vec<Vec<u8>> = ids.to_vec();
        let mut items = Vec::with_capacity(ids.len());
        for id in &mut ids {
            items.push(WEBAUTHN_CREDENTIAL_EX {
                dwVersion: 1,
                cbId: len32(id.len())?,
                pbId: id.as_mut_ptr(),
                pwszCredentialType: WEBAUTHN_CREDENTIAL_TYPE_PUBLIC_KEY,
                dwTransports: 0,
            });
        }
        let mut me = Box::new(Self {
            _ids: ids,
            _items: items,
            ptrs: Vec::new(),
            list: WEBAUTHN_CREDENTIAL_LIST::default(),
        });
        me.ptrs = me._items.iter_mut().map(|i| i as *mut _).collect();
        me.list = WEBAUTHN_CREDENTIAL_LIST {
            cCredentials: len32(me.ptrs.len())?,
            ppCredentials: me.ptrs.as_mut_ptr(),
        };
        Ok(me)
    }
}

impl WebAuthnApi for WebAuthnDll {
    fn api_version(&self) -> Option<u32> {
        // SAFETY: no arguments, no preconditions.
        self.fns.map(|f| unsafe { (f.api_version)() })
    }

    fn make_credential(
        &self,
        p: &MakeCredentialParams,
        hwnd: Option<u64>,
        cancel: &CancelToken,
    ) -> Result<RawAttestation, PlatformError> {
        let fns = self.fns()?;
        let api = self.api_version().unwrap_or(1);
        let (rp_id, rp_name) = (
            HSTRING::from(p.rp_id.as_str()),
            HSTRING::from(p.rp_name.as_str()),
        );
        let (user_name, display) = (
            HSTRING::from(p.user_name.as_str()),
            HSTRING::from(p.user_display_name.as_str()),
        );
        let rp = WEBAUTHN_RP_ENTITY_INFORMATION {
            dwVersion: 1,
            pwszId: PCWSTR(rp_id.as_ptr()),
            pwszName: PCWSTR(rp_name.as_ptr()),
            pwszIcon: PCWSTR::null(),
        };
        let mut user_id = p.user_id.clone();
        let user = WEBAUTHN_USER_ENTITY_INFORMATION {
            dwVersion: 1,
            cbId: len32(user_id.len())?,
            pbId: user_id.as_mut_ptr(),
            pwszName: PCWSTR(user_name.as_ptr()),
            pwszIcon: PCWSTR::null(),
            pwszDisplayName: PCWSTR(display.as_ptr()),
        };
        let mut params: Vec<WEBAUTHN_COSE_CREDENTIAL_PARAMETER> = p
            .algs
            .iter()
            .filter_map(|a| i32::try_from(*a).ok())
            .map(|alg| WEBAUTHN_COSE_CREDENTIAL_PARAMETER {
                dwVersion: 1,
                pwszCredentialType: WEBAUTHN_CREDENTIAL_TYPE_PUBLIC_KEY,
                lAlg: alg,
            })
            .collect();
        let cose = WEBAUTHN_COSE_CREDENTIAL_PARAMETERS {
            cCredentialParameters: len32(params.len())?,
            pCredentialParameters: params.as_mut_ptr(),
        };
        let mut cdj = p.client_data_json.clone();
        let client_data = WEBAUTHN_CLIENT_DATA {
            dwVersion: 1,
            cbClientDataJSON: len32(cdj.len())?,
            pbClientDataJSON: cdj.as_mut_ptr(),
            pwszHashAlgId: WEBAUTHN_HASH_ALGORITHM_SHA_256,
        };
        let mut exclude = CredentialList::new(&p.exclude)?;
        let window = parent_hwnd(hwnd);
        let mut out: *mut WEBAUTHN_CREDENTIAL_ATTESTATION = std::ptr::null_mut();
        let hr = self.with_cancel(&fns, cancel, |cancel_id| {
            let options = WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS {
                // Version 3 = API 1 (cancellation id, exclude list); 4 = API 3 (preferResidentKey).
                dwVersion: if api >= 3 { 4 } else { 3 },
                dwTimeoutMilliseconds: p.timeout_ms,
                dwAuthenticatorAttachment: attachment_flag(p.attachment),
                bRequireResidentKey: BOOL::from(p.require_resident_key),
                dwUserVerificationRequirement: uv_flag(p.user_verification),
                dwAttestationConveyancePreference: WEBAUTHN_ATTESTATION_CONVEYANCE_PREFERENCE_NONE,
                pCancellationId: cancel_id,
                pExcludeCredentialList: &mut exclude.list,
                bPreferResidentKey: BOOL::from(p.prefer_resident_key),
                ..Default::default()
            };
            // SAFETY: every pointer refers to locals that outlive the call; `out` receives a
            // DLL-owned struct freed below with WebAuthNFreeCredentialAttestation.
            unsafe {
                (fns.make_credential)(window, &rp, &user, &cose, &client_data, &options, &mut out)
            }
        });
        if hr.is_err() || out.is_null() {
            return Err(self.error(&fns, hr, cancel));
        }
        // SAFETY: `out` is a valid attestation from the DLL until freed.
        let a = unsafe { &*out };
        // SAFETY: pointer/length pairs from the DLL.
        let result = unsafe {
            let (transports, attachment) = if a.dwVersion >= 3 {
                transports(a.dwUsedTransport)
            } else {
                (Vec::new(), None)
            };
            RawAttestation {
                credential_id: copy(a.pbCredentialId, a.cbCredentialId),
                attestation_object: copy(a.pbAttestationObject, a.cbAttestationObject),
                authenticator_data: copy(a.pbAuthenticatorData, a.cbAuthenticatorData),
                attachment,
                transports,
            }
        };
        // SAFETY: frees what the DLL allocated, once.
        unsafe { (fns.free_attestation)(out) };
        Ok(result)
    }

    fn get_assertion(
        &self,
        p: &GetAssertionParams,
        hwnd: Option<u64>,
        cancel: &CancelToken,
    ) -> Result<RawAssertion, PlatformError> {
        let fns = self.fns()?;
        let rp_id = HSTRING::from(p.rp_id.as_str());
        let mut cdj = p.client_data_json.clone();
        let client_data = WEBAUTHN_CLIENT_DATA {
            dwVersion: 1,
            cbClientDataJSON: len32(cdj.len())?,
            pbClientDataJSON: cdj.as_mut_ptr(),
            pwszHashAlgId: WEBAUTHN_HASH_ALGORITHM_SHA_256,
        };
        let mut allow = CredentialList::new(&p.allow)?;
        let window = parent_hwnd(hwnd);
        let mut out: *mut WEBAUTHN_ASSERTION = std::ptr::null_mut();
        let hr = self.with_cancel(&fns, cancel, |cancel_id| {
            let options = WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS {
                // Version 4 = API 1 (cancellation id, allow list).
                dwVersion: 4,
                dwTimeoutMilliseconds: p.timeout_ms,
                dwAuthenticatorAttachment: attachment_flag(p.attachment),
                dwUserVerificationRequirement: uv_flag(p.user_verification),
                pCancellationId: cancel_id,
                pAllowCredentialList: if p.allow.is_empty() {
                    std::ptr::null_mut()
                } else {
                    &mut allow.list
                },
                ..Default::default()
            };
            // SAFETY: as in make_credential; `out` is freed with WebAuthNFreeAssertion.
            unsafe {
                (fns.get_assertion)(
                    window,
                    PCWSTR(rp_id.as_ptr()),
                    &client_data,
                    &options,
                    &mut out,
                )
            }
        });
        if hr.is_err() || out.is_null() {
            return Err(self.error(&fns, hr, cancel));
        }
        // SAFETY: `out` is a valid assertion from the DLL until freed.
        let a = unsafe { &*out };
        // SAFETY: pointer/length pairs from the DLL.
        let result = unsafe {
            let user = copy(a.pbUserId, a.cbUserId);
            RawAssertion {
                credential_id: copy(a.Credential.pbId, a.Credential.cbId),
                authenticator_data: copy(a.pbAuthenticatorData, a.cbAuthenticatorData),
                signature: copy(a.pbSignature, a.cbSignature),
                user_handle: (!user.is_empty()).then_some(user),
                attachment: if a.dwVersion >= 4 {
                    transports(a.dwUsedTransport).1
                } else {
                    None
                },
            }
        };
        // SAFETY: frees what the DLL allocated, once.
        unsafe { (fns.free_assertion)(out) };
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_masks() {
        assert_eq!(
            transports(WEBAUTHN_CTAP_TRANSPORT_USB),
            (vec!["usb"], Some("cross-platform"))
        );
        assert_eq!(
            transports(WEBAUTHN_CTAP_TRANSPORT_INTERNAL),
            (vec!["internal"], Some("platform"))
        );
        assert_eq!(transports(0), (vec![], None));
    }

    #[test]
    #[ignore = "needs Windows (webauthn.dll) and a person at the Windows Security prompt"]
    fn real_dll_loads() {
        let dll = WebAuthnDll::load();
        eprintln!("{dll:?} api version {:?}", dll.api_version());
    }
}
