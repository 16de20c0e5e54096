//! A smooth weighted round-robin schedule computed once per snapshot: the
//! sequence nginx's smooth WRR would produce for the configured weights.
//! Picking is then one atomic `fetch_add` on the backend's cursor and a walk
//! to the first usable entry, with no lock and no shared mutable weights.

/// The longest schedule we build; larger weight sums are scaled down.
const MAX_LEN: u64 = 1 << 16;

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Interleave `(server, weight)` pairs: each server appears `weight / g`
/// times (g the weights' gcd), spread as evenly as smooth WRR spreads them.
pub(crate) fn smooth_wrr(items: &[(u32, u32)]) -> Vec<u32> {
    let mut ws: Vec<(u32, u64)> = items
        .iter()
        .filter(|(_, w)| *w > 0)
        .map(|(s, w)| (*s, u64::from(*w)))
        .collect();
    if ws.is_empty() {
        return Vec::new();
    }
    let g = ws.iter().fold(0, |g, (_, w)| gcd(g, *w));
    for (_, w) in ws.iter_mut() {
        *w /= g.max(1);
    }
    let mut total: u64 = ws.iter().map(|(_, w)| *w).sum();
    if total > MAX_LEN {
        for (_, w) in ws.iter_mut() {
            *w = (*w * MAX_LEN / total).max(1);
        }
        total = ws.iter().map(|(_, w)| *w).sum();
    }
    let mut cur: Vec<i64> = vec![0; ws.len()];
    let mut out = Vec::with_capacity(total as usize);
    for _ in 0..total {
        let mut best = 0;
        for (i, (_, w)) in ws.iter().enumerate() {
            cur[i] += *w as i64;
            if cur[i] > cur[best] {
                best = i;
            }
        }
        cur[best] -= total as i64;
        out.push(ws[best].0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_by_weight() {
        let s = smooth_wrr(&[(0, 5), (1, 1), (2, 1)]);
        assert_eq!(s.len(), 7);
        assert_eq!(s.iter().filter(|x| **x == 0).count(), 5);
        // Smooth: the heavy server never runs more than 3 in a row here.
        assert_eq!(s, vec![0, 0, 1, 0, 2, 0, 0]);
        assert_eq!(smooth_wrr(&[(0, 2), (1, 2)]), vec![0, 1]);
        assert!(smooth_wrr(&[(0, 0)]).is_empty());
    }
}
