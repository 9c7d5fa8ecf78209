//! The real Windows backends. They compile only for Windows targets (CI: `cargo clippy --target
//! x86_64-pc-windows-gnu -p native-host`); their logic is behind the traits in `verifier`,
//! `oskey` and `platform`, unit-tested with fakes on every OS. None of this runs on Linux (wine
//! has no Windows Hello), so each piece here is real but unrun in CI.

pub mod hello;
pub mod keycred;
pub mod webauthn;

use crate::cancel::CancelToken;
use std::time::Duration;
use windows::Win32::Foundation::HWND;
use windows::Win32::System::WinRT::{RoInitialize, RO_INIT_MULTITHREADED};
use windows::Win32::UI::WindowsAndMessaging::GetForegroundWindow;
use windows_future::{AsyncStatus, IAsyncOperation};

/// Joins the multithreaded apartment on this (worker) thread. Repeated calls and an existing
/// apartment are fine, so the result is ignored.
pub(crate) fn init_apartment() {
    // SAFETY: RoInitialize has no preconditions; S_FALSE/RPC_E_CHANGED_MODE are harmless here.
    #[allow(unsafe_code)]
    let _ = unsafe { RoInitialize(RO_INIT_MULTITHREADED) };
}

/// The window to parent a prompt to: the given handle, else the foreground window (the browser
/// the user is looking at), else none.
pub(crate) fn parent_hwnd(handle: Option<u64>) -> HWND {
    match handle.and_then(|h| usize::try_from(h).ok()) {
        Some(h) if h != 0 => HWND(h as *mut core::ffi::c_void),
        // SAFETY: GetForegroundWindow has no preconditions.
        #[allow(unsafe_code)]
        _ => unsafe { GetForegroundWindow() },
    }
}

/// Waits for a WinRT async operation, polling so that `cancel` can stop it (`IAsyncInfo::Cancel`).
/// `Ok(None)` = cancelled.
pub(crate) fn wait<T: windows_core::RuntimeType + 'static>(
    op: &IAsyncOperation<T>,
    cancel: &CancelToken,
) -> windows_core::Result<Option<T>> {
    loop {
        let status = op.Status()?;
        if status != AsyncStatus::Started {
            if status == AsyncStatus::Canceled {
                return Ok(None);
            }
            return op.GetResults().map(Some);
        }
        if cancel.wait(Duration::from_millis(20)) {
            let _ = op.Cancel();
            return Ok(None);
        }
    }
}
