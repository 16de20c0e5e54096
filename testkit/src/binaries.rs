//! Finding workspace binaries from a test: they sit in `target/<profile>/`, the parent
//! of the `deps/` directory holding the test executable.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `target/<profile>/` of the running test executable.
pub fn target_profile_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().map(Path::to_path_buf)
    } else {
        Some(dir.to_path_buf())
    }
}

/// Path of binary `name`: `$env_var` if set, else `target/<profile>/<name>` if it exists.
pub fn find_binary(name: &str, env_var: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env_var) {
        return Some(PathBuf::from(path));
    }
    let candidate = target_profile_dir()?.join(name);
    candidate.is_file().then_some(candidate)
}

/// Like [`find_binary`], building it with `cargo build -p <package> --bin <name>` (same
/// profile) when missing, e.g. when a test of another crate needs `switchyard-echo`.
pub fn find_or_build_binary(name: &str, package: &str, env_var: &str) -> Result<PathBuf, String> {
    if let Some(path) = find_binary(name, env_var) {
        return Ok(path);
    }
    let profile_dir = target_profile_dir().ok_or("cannot locate the target directory")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", package, "--bin", name]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    if let Some(target) = profile_dir.parent() {
        cmd.arg("--target-dir").arg(target);
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run cargo to build {name}: {e}"))?;
    let built = profile_dir.join(name);
    if status.success() && built.is_file() {
        Ok(built)
    } else {
        Err(format!(
            "{name} not found in {} and `cargo build -p {package} --bin {name}` failed; \
             build it first or set {env_var}",
            profile_dir.display()
        ))
    }
}
