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

    /// `set map <map> <key> <value>`: every entry with that key.
    pub fn set(
        &mut self,
        key: &str,
        value: &str,
        resolve: ResolveBackend<'_>,
    ) -> Result<(), MapError> {
        let seqs: Vec<u64> = self
            .current
            .index
            .get(key)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        if seqs.is_empty() {
            return Err(MapError::NotFound);
        }
        let value: Arc<str> = Arc::from(value);
        let backend = resolve(&value);
        for seq in seqs {
            if let Some(e) = self.current.entries.get(&seq) {
                let mut e = e.clone();
                e.value = value.clone();
                e.backend = backend;
                self.current.entries.insert(seq, e);
            }
        }
        Ok(())
    }

    /// `set map <map> #<ref> <value>`.
    pub fn set_ref(
        &mut self,
        seq: u64,
        value: &str,
        resolve: ResolveBackend<'_>,
    ) -> Result<(), MapError> {
        let mut e = self
            .current
            .entries
            .get(&seq)
            .cloned()
            .ok_or(MapError::NotFound)?;
        e.value = Arc::from(value);
        e.backend = resolve(value);
        self.current.entries.insert(seq, e);
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
        // Check the version before consuming a sequence number.
        self.version_mut(ver)?;
        let e = self.make_entry(key, value, resolve)?;
        self.version_mut(ver)?.insert(e);
        Ok(())
    }

    /// `del map <map> <key>`: every entry with that key.
    pub fn del(&mut self, key: &str) -> Result<(), MapError> {
        let seqs: Vec<u64> = self
            .current
            .index
            .get(key)
            .map(|s| s.iter().copied().collect())
            .ok_or(MapError::NotFound)?;
        for s in seqs {
            self.current.remove_seq(s);
        }
        Ok(())
    }

    pub fn del_ref(&mut self, seq: u64) -> Result<(), MapError> {
        self.current
            .remove_seq(seq)
            .map(|_| ())
            .ok_or(MapError::NotFound)
    }

    pub fn clear(&mut self, ver: Option<u32>) -> Result<(), MapError> {
        *self.version_mut(ver)? = MapVersion::default();
        Ok(())
    }

    /// `prepare map`: a new empty version; returns its number.
    pub fn prepare(&mut self) -> u32 {
        self.next_ver += 1;
        self.pending.insert(self.next_ver, MapVersion::default());
        self.next_ver
    }

    /// `commit map @ver`: that version becomes current; older ones go.
    pub fn commit(&mut self, ver: u32) -> Result<(), MapError> {
        if ver <= self.curr_ver || ver > self.next_ver {
            return Err(MapError::VersionOutOfRange);
        }
        let v = self.pending.remove(&ver).unwrap_or_default();
        self.current = v;
        self.curr_ver = ver;
        self.pending.retain(|k, _| *k > ver);
        Ok(())
    }

    /// Re-resolve every entry's backend (after a reload renumbers proxies).
    pub fn reresolve(&mut self, resolve: ResolveBackend<'_>) {
        let seqs: Vec<u64> = self.current.entries.keys().copied().collect();
        for s in seqs {
            if let Some(e) = self.current.entries.get(&s) {
                let mut e = e.clone();
                e.backend = resolve(&e.value);
                self.current.entries.insert(s, e);
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
