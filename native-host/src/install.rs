//! `latchkey-host install | uninstall | status`: registers the host with browsers
//! ([Chromium](https://developer.chrome.com/docs/extensions/develop/concepts/native-messaging#native-messaging-host-location),
//! [Firefox](https://developer.mozilla.org/en-US/docs/Mozilla/Add-ons/WebExtensions/Native_manifests#manifest_location)).
//!
//! Each browser gets its own manifest file, so removing one leaves the others:
//! * Linux, user level: `~/.config/google-chrome/NativeMessagingHosts/`, `~/.config/chromium/…`,
//!   `~/.config/microsoft-edge/…`, Firefox `~/.mozilla/native-messaging-hosts/`.
//! * macOS: `~/Library/Application Support/{Google/Chrome,Chromium,Microsoft Edge}/NativeMessagingHosts/`,
//!   Firefox `~/Library/Application Support/Mozilla/NativeMessagingHosts/`.
//! * `--user-data-dir DIR` (Chromium family): `DIR/NativeMessagingHosts/`.
//! * Windows: the manifest in `%LOCALAPPDATA%\Latchkey\NativeMessagingHosts\<browser>\` and the
//!   registry value `HKCU\Software\{Google\Chrome,Chromium,Microsoft\Edge,Mozilla}\NativeMessagingHosts\app.latchkey.host`
//!   (default value = the manifest path), written with `reg.exe`.

use crate::{CHROMIUM_ORIGIN, FIREFOX_EXTENSION_ID};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The host name.
pub const HOST_NAME: &str = latchkey_core::host::HOST_NAME;

/// Installer failures.
#[derive(Debug, Error)]
pub enum InstallError {
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// A file could not be written/removed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The registry could not be changed.
    #[error("registry: {0}")]
    Registry(String),
    /// No home directory.
    #[error("cannot find the home directory (HOME / LOCALAPPDATA is unset)")]
    NoHome,
}

/// A browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    /// Google Chrome.
    Chrome,
    /// Chromium.
    Chromium,
    /// Microsoft Edge.
    Edge,
    /// Firefox.
    Firefox,
}

impl Browser {
    /// All of them.
    pub const ALL: [Self; 4] = [Self::Chrome, Self::Chromium, Self::Edge, Self::Firefox];

    /// The `--browser` name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Chrome => "chrome",
            Self::Chromium => "chromium",
            Self::Edge => "edge",
            Self::Firefox => "firefox",
        }
    }

    fn parse(s: &str) -> Result<Vec<Self>, InstallError> {
        if s == "all" {
            return Ok(Self::ALL.to_vec());
        }
        Self::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .map(|b| vec![b])
            .ok_or_else(|| {
                InstallError::Usage(format!(
                    "unknown browser {s:?} (chrome, chromium, edge, firefox, all)"
                ))
            })
    }

    const fn is_firefox(self) -> bool {
        matches!(self, Self::Firefox)
    }

    /// The registry key (under HKCU) on Windows.
    #[must_use]
    pub fn registry_key(self) -> String {
        let vendor = match self {
            Self::Chrome => r"Google\Chrome",
            Self::Chromium => "Chromium",
            Self::Edge => r"Microsoft\Edge",
            Self::Firefox => "Mozilla",
        };
        format!(r"HKCU\Software\{vendor}\NativeMessagingHosts\{HOST_NAME}")
    }
}

/// Which OS layout to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Linux and other Unix.
    Linux,
    /// macOS.
    Macos,
    /// Windows (registry + files under LOCALAPPDATA).
    Windows,
}

impl Layout {
    /// This build's layout.
    #[must_use]
    pub const fn current() -> Self {
        if cfg!(windows) {
            Self::Windows
        } else if cfg!(target_os = "macos") {
            Self::Macos
        } else {
            Self::Linux
        }
    }
}

/// The registry operations the Windows layout needs (real: `reg.exe`; tests: a fake).
pub trait Registry {
    /// Sets the default value of `key` to `value`.
    ///
    /// # Errors
    /// [`InstallError::Registry`].
    fn set_default(&self, key: &str, value: &str) -> Result<(), InstallError>;
    /// Deletes `key`.
    ///
    /// # Errors
    /// [`InstallError::Registry`].
    fn delete(&self, key: &str) -> Result<(), InstallError>;
    /// The default value of `key`, if set.
    fn get_default(&self, key: &str) -> Option<String>;
}

/// `reg.exe` (Windows).
#[derive(Debug, Clone, Copy, Default)]
pub struct RegExe;

impl Registry for RegExe {
    fn set_default(&self, key: &str, value: &str) -> Result<(), InstallError> {
        let s = std::process::Command::new("reg")
            .args(["add", key, "/ve", "/t", "REG_SZ", "/d", value, "/f"])
            .output()
            .map_err(|e| InstallError::Registry(e.to_string()))?;
        if s.status.success() {
            Ok(())
        } else {
            Err(InstallError::Registry(format!("reg add {key} failed")))
        }
    }
    fn delete(&self, key: &str) -> Result<(), InstallError> {
        let s = std::process::Command::new("reg")
            .args(["delete", key, "/f"])
            .output()
            .map_err(|e| InstallError::Registry(e.to_string()))?;
        if s.status.success() || self.get_default(key).is_none() {
            Ok(())
        } else {
            Err(InstallError::Registry(format!("reg delete {key} failed")))
        }
    }
    fn get_default(&self, key: &str) -> Option<String> {
        let out = std::process::Command::new("reg")
            .args(["query", key, "/ve"])
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find_map(|l| l.split_once("REG_SZ").map(|(_, v)| v.trim().to_owned()))
    }
}

/// Where things go.
#[derive(Debug, Clone)]
pub struct Env {
    /// `HOME` (Unix) or `LOCALAPPDATA` (Windows).
    pub home: PathBuf,
    /// The layout.
    pub layout: Layout,
    /// The host executable to register (absolute).
    pub exe: PathBuf,
}

impl Env {
    /// From the process environment.
    ///
    /// # Errors
    /// [`InstallError::NoHome`], or an I/O error finding the executable.
    pub fn from_process() -> Result<Self, InstallError> {
        let layout = Layout::current();
        let var = if layout == Layout::Windows {
            "LOCALAPPDATA"
        } else {
            "HOME"
        };
        let home = std::env::var_os(var)
            .map(PathBuf::from)
            .ok_or(InstallError::NoHome)?;
        let exe = std::env::current_exe()
            .and_then(std::fs::canonicalize)
            .map_err(|source| InstallError::Io {
                path: PathBuf::from("latchkey-host"),
                source,
            })?;
        Ok(Self { home, layout, exe })
    }

    /// The manifest directory for `browser`.
    #[must_use]
    pub fn manifest_dir(&self, browser: Browser, user_data_dir: Option<&Path>) -> PathBuf {
        if let (Some(dir), false) = (user_data_dir, browser.is_firefox()) {
            return dir.join("NativeMessagingHosts");
        }
        let h = &self.home;
        match (self.layout, browser) {
            (Layout::Linux, Browser::Chrome) => {
                h.join(".config/google-chrome/NativeMessagingHosts")
            }
            (Layout::Linux, Browser::Chromium) => h.join(".config/chromium/NativeMessagingHosts"),
            (Layout::Linux, Browser::Edge) => h.join(".config/microsoft-edge/NativeMessagingHosts"),
            (Layout::Linux, Browser::Firefox) => h.join(".mozilla/native-messaging-hosts"),
            (Layout::Macos, b) => {
                let app = h.join("Library/Application Support");
                match b {
                    Browser::Chrome => app.join("Google/Chrome/NativeMessagingHosts"),
                    Browser::Chromium => app.join("Chromium/NativeMessagingHosts"),
                    Browser::Edge => app.join("Microsoft Edge/NativeMessagingHosts"),
                    Browser::Firefox => app.join("Mozilla/NativeMessagingHosts"),
                }
            }
            (Layout::Windows, b) => h
                .join("Latchkey")
                .join("NativeMessagingHosts")
                .join(b.name()),
        }
    }

    /// The manifest path for `browser`.
    #[must_use]
    pub fn manifest_path(&self, browser: Browser, user_data_dir: Option<&Path>) -> PathBuf {
        self.manifest_dir(browser, user_data_dir)
            .join(format!("{HOST_NAME}.json"))
    }
}

/// The manifest JSON for `browser`.
#[must_use]
pub fn manifest(browser: Browser, exe: &Path) -> Value {
    let mut m = json!({
        "name": HOST_NAME,
        "description": "Latchkey native host (OS user verification and unlock)",
        "path": exe.to_string_lossy(),
        "type": "stdio",
    });
    if browser.is_firefox() {
        m["allowed_extensions"] = json!([FIREFOX_EXTENSION_ID]);
    } else {
        m["allowed_origins"] = json!([CHROMIUM_ORIGIN]);
    }
    m
}

/// Parsed `install`/`uninstall`/`status` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The browsers.
    pub browsers: Vec<Browser>,
    /// `--user-data-dir`.
    pub user_data_dir: Option<PathBuf>,
}

/// Parses `[--browser B] [--user-data-dir DIR]` (default: all browsers).
///
/// # Errors
/// [`InstallError::Usage`].
pub fn parse_options(args: &[String]) -> Result<Options, InstallError> {
    let mut browsers = None;
    let mut user_data_dir = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| InstallError::Usage(format!("{name} needs a value")))
        };
        match a.as_str() {
            "--browser" => browsers = Some(Browser::parse(&value("--browser")?)?),
            "--user-data-dir" => user_data_dir = Some(PathBuf::from(value("--user-data-dir")?)),
            other => {
                if let Some(v) = other.strip_prefix("--browser=") {
                    browsers = Some(Browser::parse(v)?);
                } else if let Some(v) = other.strip_prefix("--user-data-dir=") {
                    user_data_dir = Some(PathBuf::from(v));
                } else {
                    return Err(InstallError::Usage(format!("unknown argument {other:?}")));
                }
            }
        }
    }
    Ok(Options {
        browsers: browsers.unwrap_or_else(|| Browser::ALL.to_vec()),
        user_data_dir,
    })
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes the manifests (and registry values on Windows); returns a report.
///
/// # Errors
/// [`InstallError`].
pub fn install(env: &Env, opts: &Options, reg: &dyn Registry) -> Result<String, InstallError> {
    let mut report = String::new();
    for &b in &opts.browsers {
        let path = env.manifest_path(b, opts.user_data_dir.as_deref());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let text = serde_json::to_string_pretty(&manifest(b, &env.exe))
            .map_err(|e| InstallError::Usage(e.to_string()))?;
        std::fs::write(&path, text + "\n").map_err(io(&path))?;
        if env.layout == Layout::Windows {
            reg.set_default(&b.registry_key(), &path.to_string_lossy())?;
            let _ = writeln!(
                report,
                "{}: {} -> {}",
                b.name(),
                b.registry_key(),
                path.display()
            );
        } else {
            let _ = writeln!(report, "{}: {}", b.name(), path.display());
        }
    }
    Ok(report)
}

/// Removes the manifests (and registry values); returns a report.
///
/// # Errors
/// [`InstallError`].
pub fn uninstall(env: &Env, opts: &Options, reg: &dyn Registry) -> Result<String, InstallError> {
    let mut report = String::new();
    for &b in &opts.browsers {
        let path = env.manifest_path(b, opts.user_data_dir.as_deref());
        match std::fs::remove_file(&path) {
            Ok(()) => {
                let _ = writeln!(report, "{}: removed {}", b.name(), path.display());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let _ = writeln!(report, "{}: not installed", b.name());
            }
            Err(e) => return Err(io(&path)(e)),
        }
        if env.layout == Layout::Windows && reg.get_default(&b.registry_key()).is_some() {
            reg.delete(&b.registry_key())?;
        }
    }
    Ok(report)
}

/// What is registered where.
#[must_use]
pub fn status(env: &Env, opts: &Options, reg: &dyn Registry) -> String {
    let mut report = String::new();
    for &b in &opts.browsers {
        let path = if env.layout == Layout::Windows {
            match reg.get_default(&b.registry_key()) {
                Some(p) => PathBuf::from(p),
                None => {
                    let _ = writeln!(
                        report,
                        "{}: not registered ({})",
                        b.name(),
                        b.registry_key()
                    );
                    continue;
                }
            }
        } else {
            env.manifest_path(b, opts.user_data_dir.as_deref())
        };
        let line = match std::fs::read_to_string(&path) {
            Err(_) => format!("not installed ({})", path.display()),
            Ok(t) => match serde_json::from_str::<Value>(&t) {
                Ok(m) => {
                    let exe = m["path"].as_str().unwrap_or("");
                    let ok = m == manifest(b, Path::new(exe));
                    let exists = Path::new(exe).is_file();
                    format!(
                        "{} -> {exe}{}{}",
                        path.display(),
                        if exists { "" } else { " (missing executable)" },
                        if ok {
                            ""
                        } else {
                            " (manifest differs from this version's)"
                        }
                    )
                }
                Err(_) => format!("damaged manifest {}", path.display()),
            },
        };
        let _ = writeln!(report, "{}: {line}", b.name());
    }
    report
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    #[derive(Default)]
    struct FakeReg(RefCell<HashMap<String, String>>);
    impl Registry for FakeReg {
        fn set_default(&self, k: &str, v: &str) -> Result<(), InstallError> {
            self.0.borrow_mut().insert(k.into(), v.into());
            Ok(())
        }
        fn delete(&self, k: &str) -> Result<(), InstallError> {
            self.0.borrow_mut().remove(k);
            Ok(())
        }
        fn get_default(&self, k: &str) -> Option<String> {
            self.0.borrow().get(k).cloned()
        }
    }

    fn env(layout: Layout, home: &Path) -> Env {
        Env {
            home: home.to_owned(),
            layout,
            exe: PathBuf::from("/opt/latchkey/latchkey-host"),
        }
    }

    fn read(p: &Path) -> Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn linux_paths_and_manifests() {
        let d = tempfile::tempdir().unwrap();
        let e = env(Layout::Linux, d.path());
        let reg = FakeReg::default();
        install(&e, &parse_options(&[]).unwrap(), &reg).unwrap();
        let chrome = read(
            &d.path()
                .join(".config/google-chrome/NativeMessagingHosts/app.latchkey.host.json"),
        );
        assert_eq!(
            chrome,
            json!({"name":"app.latchkey.host","description":"Latchkey native host (OS user verification and unlock)",
            "path":"/opt/latchkey/latchkey-host","type":"stdio",
            "allowed_origins":["chrome-extension://hpkkpmchehgbcnccfgdfoknecacajhkk/"]})
        );
        assert!(d
            .path()
            .join(".config/chromium/NativeMessagingHosts/app.latchkey.host.json")
            .is_file());
        assert!(d
            .path()
            .join(".config/microsoft-edge/NativeMessagingHosts/app.latchkey.host.json")
            .is_file());
        let ff = read(
            &d.path()
                .join(".mozilla/native-messaging-hosts/app.latchkey.host.json"),
        );
        assert_eq!(ff["allowed_extensions"], json!(["latchkey@latchkey.app"]));
        assert!(ff.get("allowed_origins").is_none());
        assert!(reg.0.borrow().is_empty());
        let s = status(&e, &parse_options(&[]).unwrap(), &reg);
        assert!(
            s.contains("firefox: ") && s.contains("(missing executable)"),
            "{s}"
        );
        // Uninstalling one browser leaves the others.
        uninstall(
            &e,
            &parse_options(&args(&["--browser", "chromium"])).unwrap(),
            &reg,
        )
        .unwrap();
        assert!(!d
            .path()
            .join(".config/chromium/NativeMessagingHosts/app.latchkey.host.json")
            .exists());
        assert!(d
            .path()
            .join(".config/google-chrome/NativeMessagingHosts/app.latchkey.host.json")
            .is_file());
        let s = status(&e, &parse_options(&[]).unwrap(), &reg);
        assert!(s.contains("chromium: not installed"), "{s}");
    }

    #[test]
    fn user_data_dir_applies_to_chromium_browsers() {
        let d = tempfile::tempdir().unwrap();
        let e = env(Layout::Linux, &d.path().join("home"));
        let udd = d.path().join("profile");
        let o = parse_options(&args(&[
            "--browser=chromium",
            "--user-data-dir",
            udd.to_str().unwrap(),
        ]))
        .unwrap();
        install(&e, &o, &FakeReg::default()).unwrap();
        assert!(udd
            .join("NativeMessagingHosts/app.latchkey.host.json")
            .is_file());
        assert_eq!(
            e.manifest_dir(Browser::Firefox, Some(&udd)),
            d.path().join("home/.mozilla/native-messaging-hosts")
        );
    }

    #[test]
    fn macos_paths() {
        let e = env(Layout::Macos, Path::new("/Users/a"));
        assert_eq!(
            e.manifest_dir(Browser::Chrome, None),
            Path::new("/Users/a/Library/Application Support/Google/Chrome/NativeMessagingHosts")
        );
        assert_eq!(
            e.manifest_dir(Browser::Edge, None),
            Path::new("/Users/a/Library/Application Support/Microsoft Edge/NativeMessagingHosts")
        );
        assert_eq!(
            e.manifest_dir(Browser::Firefox, None),
            Path::new("/Users/a/Library/Application Support/Mozilla/NativeMessagingHosts")
        );
    }

    #[test]
    fn windows_registry_per_browser() {
        let d = tempfile::tempdir().unwrap();
        let e = env(Layout::Windows, d.path());
        let reg = FakeReg::default();
        install(
            &e,
            &parse_options(&args(&["--browser", "all"])).unwrap(),
            &reg,
        )
        .unwrap();
        let r = reg.0.borrow().clone();
        assert_eq!(r.len(), 4);
        let chrome = &r[r"HKCU\Software\Google\Chrome\NativeMessagingHosts\app.latchkey.host"];
        let edge = &r[r"HKCU\Software\Microsoft\Edge\NativeMessagingHosts\app.latchkey.host"];
        assert_ne!(chrome, edge, "separate manifests per browser");
        assert!(r.contains_key(r"HKCU\Software\Mozilla\NativeMessagingHosts\app.latchkey.host"));
        assert!(r.contains_key(r"HKCU\Software\Chromium\NativeMessagingHosts\app.latchkey.host"));
        assert_eq!(
            read(Path::new(edge))["allowed_origins"],
            json!([CHROMIUM_ORIGIN])
        );
        uninstall(
            &e,
            &parse_options(&args(&["--browser", "edge"])).unwrap(),
            &reg,
        )
        .unwrap();
        assert!(!reg.0.borrow().contains_key(&Browser::Edge.registry_key()));
        assert!(Path::new(chrome).is_file());
        assert!(status(&e, &parse_options(&[]).unwrap(), &reg).contains("edge: not registered"));
    }

    #[test]
    fn bad_arguments() {
        assert!(parse_options(&args(&["--browser", "safari"])).is_err());
        assert!(parse_options(&args(&["--browser"])).is_err());
        assert!(parse_options(&args(&["--what"])).is_err());
    }
}
