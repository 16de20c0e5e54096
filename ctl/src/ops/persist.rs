//! `--persist`: make the map file on disk say what the runtime now says, so the next
//! reload does not silently roll the cutover back (seed 004 step 13).
//!
//! The file is rewritten atomically: a temp file in the same directory, fsync, rename
//! over the original, fsync the directory. Comments, blank lines, other entries and the
//! spacing of the changed lines are kept; the file's mode and owner are kept.
//! Lines are read the way HAProxy 2.6 reads them (`pat_ref_read_from_file_smp`): a `#`
//! in the first column starts a comment, the key is the first word after leading
//! blanks, the value runs to the end of the line minus trailing blanks.

use crate::error::CtlError;
use serde::Serialize;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize)]
pub struct Persisted {
    pub path: PathBuf,
    /// How many lines had the key (all are changed, as `set map` changes all entries).
    pub replaced: usize,
    /// True when no line had the key and one was appended.
    pub appended: bool,
    /// False when the file already said this (nothing was written).
    pub written: bool,
}

/// The new content: every entry for `key` gets `value`; if none exists, a line is
/// appended. Returns the content and how many lines were replaced.
pub fn rewrite(content: &[u8], key: &str, value: &str) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(content.len() + key.len() + value.len() + 2);
    let mut replaced = 0;
    for line in content.split_inclusive(|b| *b == b'\n') {
        match value_span(line, key.as_bytes()) {
            Some((start, end)) => {
                out.extend_from_slice(&line[..start]);
                if start > 0 && !matches!(line[start - 1], b' ' | b'\t') {
                    out.push(b' '); // the key had no value: add the separator
                }
                out.extend_from_slice(value.as_bytes());
                out.extend_from_slice(&line[end..]);
                replaced += 1;
            }
            None => out.extend_from_slice(line),
        }
    }
    if replaced == 0 {
        if !out.is_empty() && !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        out.extend_from_slice(key.as_bytes());
        out.push(b' ');
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    (out, replaced)
}

/// Where the value of `line` is, if the line is an entry for `key`.
fn value_span(line: &[u8], key: &[u8]) -> Option<(usize, usize)> {
    if line.first() == Some(&b'#') {
        return None;
    }
    let blank = |b: &u8| matches!(*b, b' ' | b'\t');
    let eol = |b: &u8| matches!(*b, b'\n' | b'\r');
    let key_beg = line.iter().position(|b| !blank(b))?;
    let key_len = line[key_beg..]
        .iter()
        .position(|b| blank(b) || eol(b))
        .unwrap_or(line.len() - key_beg);
    if key_len == 0 || &line[key_beg..key_beg + key_len] != key {
        return None;
    }
    let after_key = key_beg + key_len;
    let value_beg = after_key
        + line[after_key..]
            .iter()
            .position(|b| !blank(b))
            .unwrap_or(line.len() - after_key);
    let mut value_end = value_beg
        + line[value_beg..]
            .iter()
            .position(eol)
            .unwrap_or(line.len() - value_beg);
    while value_end > value_beg && blank(&line[value_end - 1]) {
        value_end -= 1;
    }
    // A line "key   \n": the value starts after the blanks but is empty; keep blanks.
    Some((value_beg.min(value_end), value_end))
}

/// The file to rewrite, with symlinks resolved (so the link keeps pointing at it).
pub fn resolve(path: &Path) -> Result<PathBuf, CtlError> {
    fs::canonicalize(path).map_err(|source| CtlError::LocalFile {
        path: path.to_owned(),
        source,
    })
}

/// Everything that can fail before the switch is checked here: the file reads, and a
/// file can be created next to it.
pub fn preflight(path: &Path) -> Result<PathBuf, CtlError> {
    let real = resolve(path)?;
    let local = |source| CtlError::LocalFile {
        path: real.clone(),
        source,
    };
    fs::read(&real).map_err(local)?;
    let dir = real.parent().unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(".switchyard-ctl-probe.")
        .tempfile_in(dir)
        .map_err(|source| CtlError::LocalFile {
            path: dir.to_owned(),
            source,
        })?;
    Ok(real)
}

/// Rewrites `path` so `key` maps to `value`.
pub fn persist(path: &Path, key: &str, value: &str) -> Result<Persisted, CtlError> {
    let real = resolve(path)?;
    let local = |source| CtlError::LocalFile {
        path: real.clone(),
        source,
    };
    let content = fs::read(&real).map_err(local)?;
    let (new, replaced) = rewrite(&content, key, value);
    if new == content {
        return Ok(Persisted {
            path: real,
            replaced,
            appended: false,
            written: false,
        });
    }
    let meta = fs::metadata(&real).map_err(local)?;
    write_atomically(&real, &new, Some(&meta)).map_err(local)?;
    Ok(Persisted {
        path: real,
        replaced,
        appended: replaced == 0,
        written: true,
    })
}

/// Temp file in the same directory, same mode (and owner, when allowed), fsync,
/// rename, fsync the directory. A reader sees the old file or the new one, never half.
pub fn write_atomically(
    path: &Path,
    content: &[u8],
    like: Option<&fs::Metadata>,
) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(content)?;
    if let Some(meta) = like {
        let file = tmp.as_file();
        file.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        let current = file.metadata()?;
        if current.uid() != meta.uid() || current.gid() != meta.gid() {
            // Only root may give a file away; a non-root user rewriting its own file
            // already has the right owner, so a refusal here is not fatal.
            let _ = std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()));
        }
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(content: &str, key: &str, value: &str) -> (String, usize) {
        let (out, n) = rewrite(content.as_bytes(), key, value);
        (String::from_utf8(out).expect("utf8"), n)
    }

    #[test]
    fn changes_only_the_key() {
        let before = "# release map\nactive backend_blue\n\nother  keep me  \n";
        let (after, n) = rw(before, "active", "backend_green");
        assert_eq!(n, 1);
        assert_eq!(
            after,
            "# release map\nactive backend_green\n\nother  keep me  \n"
        );
    }

    #[test]
    fn keeps_spacing_crlf_and_trailing_blanks() {
        let (after, n) = rw("  active\t\tbackend_blue  \r\n", "active", "g");
        assert_eq!(n, 1);
        assert_eq!(after, "  active\t\tg  \r\n");
    }

    #[test]
    fn changes_every_duplicate_and_skips_comments() {
        let before = "#active commented\nactive a\nactive b\nactiveX c\n";
        let (after, n) = rw(before, "active", "z");
        assert_eq!(n, 2);
        assert_eq!(after, "#active commented\nactive z\nactive z\nactiveX c\n");
    }

    #[test]
    fn indented_hash_is_a_key_like_haproxy_reads_it() {
        let (after, n) = rw(" #k v\n", "#k", "w");
        assert_eq!((after.as_str(), n), (" #k w\n", 1));
    }

    #[test]
    fn appends_when_missing_and_fills_empty_values() {
        assert_eq!(rw("a b", "k", "v"), ("a b\nk v\n".into(), 0));
        assert_eq!(rw("", "k", "v"), ("k v\n".into(), 0));
        assert_eq!(rw("k\n", "k", "v"), ("k v\n".into(), 1));
        assert_eq!(rw("k   \n", "k", "v"), ("k   v\n".into(), 1));
    }

    #[test]
    fn atomic_write_keeps_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.map");
        fs::write(&path, "active blue\n").expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
        let done = persist(&path, "active", "green").expect("persist");
        assert!(done.written);
        assert_eq!(fs::read_to_string(&path).expect("read"), "active green\n");
        let mode = fs::metadata(&path).expect("meta").mode() & 0o777;
        assert_eq!(mode, 0o640);
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(Result::ok)
            .filter(|e| e.file_name() != "m.map")
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        let again = persist(&path, "active", "green").expect("persist");
        assert!(!again.written);
    }

    #[test]
    fn follows_symlinks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("real.map");
        let link = dir.path().join("link.map");
        fs::write(&real, "active blue\n").expect("write");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        persist(&link, "active", "green").expect("persist");
        assert!(fs::symlink_metadata(&link)
            .expect("meta")
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&real).expect("read"), "active green\n");
    }
}
