//! A map at runtime: entries in insertion order plus an exact-key index, both
//! persistent (structure-sharing) so a `set map` on a 100k-entry map copies
//! O(log n), not the whole map. Versions support `prepare`/`commit map`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use regex::Regex;
use switchyard_config::{Location, MapEntry, MapMatch};

use crate::ids::ProxyIdx;
use crate::matching;

/// Base of the pseudo-addresses `show map` prints for entries (`0x55d5...`).
/// Addresses are stable per entry and accepted back as `#0x...` references.
const REF_BASE: u64 = 0x55d5_f073_0000;
const REF_STEP: u64 = 0x90;

#[derive(Debug, Clone)]
pub struct MapEntryRt {
    pub seq: u64,
    pub key: Arc<str>,
    pub value: Arc<str>,
    /// The backend named by `value`, resolved when the entry was written.
    pub backend: Option<ProxyIdx>,
    regex: Option<Arc<Regex>>,
}

impl MapEntryRt {
    /// The `0x...` reference `show map` prints.
    pub fn reference(&self) -> u64 {
        REF_BASE + self.seq * REF_STEP
    }
}

/// Parse an entry reference (`#0x55d5f0730090` or `0x...`) into its sequence.
pub fn parse_reference(s: &str) -> Option<u64> {
    let s = s.strip_prefix('#').unwrap_or(s);
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    let v = u64::from_str_radix(hex, 16).ok()?;
    let off = v.checked_sub(REF_BASE)?;
    (off % REF_STEP == 0).then_some(off / REF_STEP)
}

/// One version of a map's contents.
#[derive(Debug, Clone, Default)]
pub struct MapVersion {
    entries: imbl::OrdMap<u64, MapEntryRt>,
    index: imbl::HashMap<Arc<str>, imbl::Vector<u64>>,
}

impl MapVersion {
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// Entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &MapEntryRt> {
        self.entries.values()
    }

    fn insert(&mut self, e: MapEntryRt) {
        let mut seqs = self.index.get(&e.key).cloned().unwrap_or_default();
        seqs.push_back(e.seq);
        self.index.insert(e.key.clone(), seqs);
        self.entries.insert(e.seq, e);
    }

    fn first_exact(&self, key: &str) -> Option<&MapEntryRt> {
        let seqs = self.index.get(key)?;
        seqs.front().and_then(|s| self.entries.get(s))
    }

    /// The entries with `key`, in insertion order.
    fn seqs_of(&self, key: &str) -> Vec<u64> {
        self.index
            .get(key)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Give every entry with `key` a new value; false when there is none.
    fn set_key(&mut self, key: &str, value: &Arc<str>, backend: Option<ProxyIdx>) -> bool {
        let seqs = self.seqs_of(key);
        for seq in &seqs {
            if let Some(e) = self.entries.get(seq) {
                let mut e = e.clone();
                e.value = value.clone();
                e.backend = backend;
                self.entries.insert(*seq, e);
            }
        }
        !seqs.is_empty()
    }

    /// Remove every entry with `key`; false when there is none.
    fn remove_key(&mut self, key: &str) -> bool {
        let seqs = self.seqs_of(key);
        for s in &seqs {
            self.remove_seq(*s);
        }
        !seqs.is_empty()
    }

    fn remove_seq(&mut self, seq: u64) -> Option<MapEntryRt> {
        let e = self.entries.remove(&seq)?;
        if let Some(seqs) = self.index.get(&e.key) {
            let rest: imbl::Vector<u64> = seqs.iter().copied().filter(|s| *s != seq).collect();
            if rest.is_empty() {
                self.index.remove(&e.key);
            } else {
                self.index.insert(e.key.clone(), rest);
            }
        }
        Some(e)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("entry not found")]
    NotFound,
    #[error("version number out of range")]
    VersionOutOfRange,
    #[error("version number in the future")]
    VersionInFuture,
    #[error("invalid regex: {0}")]
    BadRegex(String),
}

/// Resolves a backend name to its index in the snapshot being built/edited.
pub type ResolveBackend<'a> = &'a dyn Fn(&str) -> Option<ProxyIdx>;

#[derive(Debug, Clone)]
pub struct MapRt {
    /// The identity: the path string exactly as written in the config.
    pub name: Arc<str>,
    pub path: PathBuf,
    /// The `#id` used on the CLI.
    pub uid: u32,
    pub kind: MapMatch,
    pub first_use: Location,
    pub curr_ver: u32,
    pub next_ver: u32,
    current: MapVersion,
    /// Every other version holding entries: prepared ones, and older ones
    /// written with `add map @<ver>` (HAProxy keeps those, unseen, until
    /// the next commit purges them).
    pending: BTreeMap<u32, MapVersion>,
    next_seq: u64,
}

impl MapRt {
    pub fn new(
        name: &str,
        path: PathBuf,
        uid: u32,
        kind: MapMatch,
        first_use: Location,
        entries: &[MapEntry],
        resolve: ResolveBackend<'_>,
    ) -> Result<MapRt, MapError> {
        let mut m = MapRt {
            name: Arc::from(name),
            path,
            uid,
            kind,
            first_use,
            curr_ver: 0,
            next_ver: 0,
            current: MapVersion::default(),
            pending: BTreeMap::new(),
            next_seq: 0,
        };
        for e in entries {
            m.add(None, &e.key, &e.value, resolve)?;
        }
        Ok(m)
    }

    fn make_entry(
        &mut self,
        key: &str,
        value: &str,
        resolve: ResolveBackend<'_>,
    ) -> Result<MapEntryRt, MapError> {
        let regex = if self.kind == MapMatch::Reg {
            Some(Arc::new(
                Regex::new(key).map_err(|e| MapError::BadRegex(e.to_string()))?,
            ))
        } else {
            None
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        Ok(MapEntryRt {
            seq,
            key: Arc::from(key),
            value: Arc::from(value),
            backend: resolve(value),
            regex,
        })
    }

    fn version_mut(&mut self, ver: Option<u32>) -> Result<&mut MapVersion, MapError> {
        match ver {
            None => Ok(&mut self.current),
            Some(v) if v == self.curr_ver => Ok(&mut self.current),
            Some(v) => self.pending.get_mut(&v).ok_or(MapError::VersionOutOfRange),
        }
    }

    /// Every version: the current one, then the others.
    fn versions_mut(&mut self) -> impl Iterator<Item = &mut MapVersion> {
        std::iter::once(&mut self.current).chain(self.pending.values_mut())
    }

    /// Entries of every version (HAProxy's `entry_cnt` counts them all).
    pub fn entry_count(&self) -> usize {
        self.current.len() + self.pending.values().map(MapVersion::len).sum::<usize>()
    }

    /// A version past the last prepared one (HAProxy compares versions
    /// as wrapping 32-bit numbers).
    pub fn is_future(&self, ver: u32) -> bool {
        (ver.wrapping_sub(self.next_ver) as i32) > 0
    }

    /// The entries of the current version, or of a pending one.
    pub fn version(&self, ver: Option<u32>) -> Option<&MapVersion> {
        match ver {
            None => Some(&self.current),
            Some(v) if v == self.curr_ver => Some(&self.current),
            Some(v) => self.pending.get(&v),
        }
    }

    pub fn current(&self) -> &MapVersion {
        &self.current
    }

    /// Look a value up as the map's match kind does; the first entry in
    /// insertion order wins.
    pub fn lookup(&self, input: &str) -> Option<&MapEntryRt> {
        let v = &self.current;
        match self.kind {
            MapMatch::Str => v.first_exact(input),
            MapMatch::Beg => v.iter().find(|e| matching::beg(input, &e.key, false)),
            MapMatch::End => v.iter().find(|e| matching::end(input, &e.key, false)),
            MapMatch::Sub => v.iter().find(|e| matching::sub(input, &e.key, false)),
            MapMatch::Dom => v.iter().find(|e| matching::dom(input, &e.key, false)),
            MapMatch::Reg => v
                .iter()
                .find(|e| e.regex.as_ref().map(|r| r.is_match(input)).unwrap_or(false)),
            MapMatch::Ip => v.iter().find(|e| {
                matching::parse_net(&e.key)
                    .map(|n| matching::ip(input, &n))
                    .unwrap_or(false)
            }),
            MapMatch::Int => v.iter().find(|e| matching::int(input, &e.key)),
        }
    }

    /// `set map <map> <key> <value>`: every entry with that key, in every
    /// version (as HAProxy's `pat_ref_set` walks all of them).
    pub fn set(
        &mut self,
        key: &str,
        value: &str,
        resolve: ResolveBackend<'_>,
    ) -> Result<(), MapError> {
        let value: Arc<str> = Arc::from(value);
        let backend = resolve(&value);
        let mut found = false;
        for v in self.versions_mut() {
            found |= v.set_key(key, &value, backend);
        }
        if found {
            Ok(())
        } else {
            Err(MapError::NotFound)
        }
    }

    /// `set map <map> #<ref> <value>`.
    pub fn set_ref(
        &mut self,
        seq: u64,
        value: &str,
        resolve: ResolveBackend<'_>,
    ) -> Result<(), MapError> {
        let backend = resolve(value);
        let v = self
            .versions_mut()
            .find(|v| v.entries.contains_key(&seq))
            .ok_or(MapError::NotFound)?;
        if let Some(e) = v.entries.get(&seq) {
            let mut e = e.clone();
            e.value = Arc::from(value);
            e.backend = backend;
            v.entries.insert(seq, e);
        }
        Ok(())
    }

    /// `add map [@ver] <map> <key> <value>`: duplicates are allowed.
    pub fn add(
        &mut self,
        ver: Option<u32>,
        key: &str,
        value: &str,
        resolve: ResolveBackend<'_>,
    ) -> Result<(), MapError> {
        if ver.is_some_and(|v| self.is_future(v)) {
            return Err(MapError::VersionInFuture);
        }
        let e = self.make_entry(key, value, resolve)?;
        match ver {
            Some(v) if v != self.curr_ver => self.pending.entry(v).or_default().insert(e),
            _ => self.current.insert(e),
        }
        Ok(())
    }

    /// `del map <map> <key>`: every entry with that key, in every version.
    pub fn del(&mut self, key: &str) -> Result<(), MapError> {
        let mut found = false;
        for v in self.versions_mut() {
            found |= v.remove_key(key);
        }
        if found {
            Ok(())
        } else {
            Err(MapError::NotFound)
        }
    }

    pub fn del_ref(&mut self, seq: u64) -> Result<(), MapError> {
        self.versions_mut()
            .find_map(|v| v.remove_seq(seq))
            .map(|_| ())
            .ok_or(MapError::NotFound)
    }

    /// `clear map [@ver]`: a version that holds nothing is left as is.
    pub fn clear(&mut self, ver: Option<u32>) {
        if let Ok(v) = self.version_mut(ver) {
            *v = MapVersion::default();
        }
    }

    /// `prepare map`: a new empty version; returns its number.
    pub fn prepare(&mut self) -> u32 {
        self.next_ver = self.next_ver.wrapping_add(1);
        self.pending.insert(self.next_ver, MapVersion::default());
        self.next_ver
    }

    /// `commit map @ver`: a version after the current one, up to the last
    /// prepared, becomes current; every older one goes.
    pub fn commit(&mut self, ver: u32) -> Result<(), MapError> {
        let span = self.next_ver.wrapping_sub(self.curr_ver);
        if ver.wrapping_sub(self.curr_ver.wrapping_add(1)) >= span {
            return Err(MapError::VersionOutOfRange);
        }
        let v = self.pending.remove(&ver).unwrap_or_default();
        self.current = v;
        self.curr_ver = ver;
        self.pending.retain(|k, _| (k.wrapping_sub(ver) as i32) > 0);
        Ok(())
    }

    /// Re-resolve every entry's backend (after a reload renumbers proxies).
    pub fn reresolve(&mut self, resolve: ResolveBackend<'_>) {
        for v in self.versions_mut() {
            let seqs: Vec<u64> = v.entries.keys().copied().collect();
            for s in seqs {
                if let Some(e) = v.entries.get(&s) {
                    let mut e = e.clone();
                    e.backend = resolve(&e.value);
                    v.entries.insert(s, e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<ProxyIdx> {
        None
    }

    fn map(kind: MapMatch, pairs: &[(&str, &str)]) -> MapRt {
        let entries: Vec<MapEntry> = pairs
            .iter()
            .map(|(k, v)| MapEntry {
                key: k.to_string(),
                value: v.to_string(),
            })
            .collect();
        MapRt::new(
            "t.map",
            "t.map".into(),
            2,
            kind,
            Location::default(),
            &entries,
            &none,
        )
        .expect("map")
    }

    #[test]
    fn duplicates_first_wins_and_set_updates_all() {
        let mut m = map(MapMatch::Str, &[("a", "1"), ("a", "2"), ("b", "3")]);
        assert_eq!(&*m.lookup("a").expect("a").value, "1");
        m.set("a", "9", &none).expect("set");
        assert!(m
            .current()
            .iter()
            .filter(|e| &*e.key == "a")
            .all(|e| &*e.value == "9"));
        assert_eq!(m.set("zz", "1", &none), Err(MapError::NotFound));
        m.del("a").expect("del");
        assert!(m.lookup("a").is_none());
        assert_eq!(m.current().len(), 1);
    }

    #[test]
    fn versions() {
        let mut m = map(MapMatch::Str, &[("a", "1")]);
        let v = m.prepare();
        assert_eq!(v, 1);
        m.add(Some(v), "b", "2", &none).expect("add");
        assert!(m.lookup("b").is_none());
        m.commit(v).expect("commit");
        assert_eq!(&*m.lookup("b").expect("b").value, "2");
        assert!(m.lookup("a").is_none());
        assert_eq!(m.commit(v), Err(MapError::VersionOutOfRange));
    }

    /// As HAProxy 2.6 does (checked against it): an older version takes
    /// entries, unseen but counted; `set`/`del` reach every version; a
    /// commit purges every older one; versions compare wrapping.
    #[test]
    fn versions_other_than_current() {
        let mut m = map(MapMatch::Str, &[("a", "1")]);
        let v1 = m.prepare();
        m.commit(v1).expect("commit 1");
        assert_eq!(
            m.add(Some(2), "x", "1", &none),
            Err(MapError::VersionInFuture)
        );
        m.add(Some(0), "old", "o", &none).expect("past version");
        m.add(Some(u32::MAX), "wrap", "w", &none)
            .expect("wraps to the past");
        assert_eq!((m.current().len(), m.entry_count()), (0, 2));
        m.set("old", "y", &none).expect("set reaches version 0");
        assert_eq!(
            &*m.version(Some(0))
                .expect("v0")
                .iter()
                .next()
                .expect("e")
                .value,
            "y"
        );
        let v = m.prepare();
        m.add(Some(v), "k", "v", &none).expect("add");
        m.del("k").expect("del reaches the prepared version");
        m.add(Some(v), "k", "v", &none).expect("add");
        m.commit(v).expect("commit 2");
        assert_eq!(m.entry_count(), 1);
        assert!(m.lookup("k").is_some());
    }

    #[test]
    fn references_round_trip() {
        let m = map(MapMatch::Str, &[("a", "1"), ("b", "2")]);
        let e = m.current().iter().nth(1).expect("second");
        let s = format!("#0x{:x}", e.reference());
        assert_eq!(parse_reference(&s), Some(e.seq));
        assert_eq!(parse_reference("#0x1"), None);
    }

    #[test]
    fn beg_and_dom() {
        let m = map(MapMatch::Beg, &[("/api", "be_api"), ("/", "be_root")]);
        assert_eq!(&*m.lookup("/api/x").expect("api").value, "be_api");
        let d = map(MapMatch::Dom, &[("example.com", "be_ex")]);
        assert!(d.lookup("www.example.com").is_some());
        assert!(d.lookup("notexample.com").is_none());
    }
}
