//! Shared helpers for the config tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The `*.cfg` files of a fixture directory, sorted.
pub fn cfg_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures().join(dir))
        .expect("fixture dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cfg"))
        .collect();
    v.sort();
    v
}

/// `# expect: <line> <text>` from a bad fixture's first line.
pub fn expectation(path: &Path) -> (usize, String) {
    let text = std::fs::read_to_string(path).expect("read fixture");
    let first = text.lines().next().unwrap_or("");
    let rest = first.strip_prefix("# expect: ").unwrap_or_else(|| {
        panic!(
            "{}: first line must be '# expect: <line> <text>'",
            path.display()
        )
    });
    let (line, msg) = rest.split_once(' ').expect("line and text");
    (line.parse().expect("line number"), msg.to_string())
}

/// Creates a file (and its missing parent directories) for the duration of a
/// test, unless it already exists; removes exactly what it created on drop.
pub struct TempFile {
    created_file: Option<PathBuf>,
    created_dirs: Vec<PathBuf>,
}

impl TempFile {
    pub fn ensure(path: &Path, content: &str) -> TempFile {
        let mut created_dirs = Vec::new();
        let mut dir = path.parent();
        let mut missing = Vec::new();
        while let Some(d) = dir {
            if d.exists() {
                break;
            }
            missing.push(d.to_path_buf());
            dir = d.parent();
        }
        for d in missing.iter().rev() {
            std::fs::create_dir(d).expect("create dir");
            created_dirs.push(d.clone());
        }
        let created_file = if path.exists() {
            None
        } else {
            std::fs::write(path, content).expect("write file");
            Some(path.to_path_buf())
        };
        TempFile {
            created_file,
            created_dirs,
        }
    }

    pub fn created(&self) -> bool {
        self.created_file.is_some()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(f) = &self.created_file {
            let _ = std::fs::remove_file(f);
        }
        for d in self.created_dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}
