//! One stable sort shared by every caller.
//!
//! `slice::sort_by` is generic over the element type and the comparator, so each call site links
//! its own copy of the standard library's stable sort (driftsort, quicksort partition, small-sort
//! networks: about 4 KB of wasm each). [`sort_by`] sorts a list of indices instead, through ONE
//! non-generic function, and then moves the elements into that order: the wasm carries a single
//! copy of the sort (wasm size, issue 6). Same result as `slice::sort_by` (stable), still
//! O(n log n) comparisons; each comparison goes through one indirect call.

use std::cmp::Ordering;

/// Sorts `items` by `compare`, stably (equal elements keep their order), like `slice::sort_by`.
pub fn sort_by<T>(items: &mut Vec<T>, mut compare: impl FnMut(&T, &T) -> Ordering) {
    let order = sorted_order(items.len(), &mut |a, b| compare(&items[a], &items[b]));
    let mut taken: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| taken[i].take()));
}

/// The indices `0..len` in the order `compare` gives them (stable). Not inlined: this is the one
/// copy of the standard sort that every [`sort_by`] shares. Ties are broken by index, so the
/// unstable sort gives the stable order; it links about 500 B less wasm than the stable sort.
#[inline(never)]
fn sorted_order(len: usize, compare: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_unstable_by(|&a, &b| compare(a, b).then(a.cmp(&b)));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_stable_sort() {
        // Pseudo-random keys with many repeats: stability shows in the second field.
        let mut state = 0x2545_f491_u32;
        let mut items: Vec<(u8, usize)> = (0..1000)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                ((state % 17) as u8, i)
            })
            .collect();
        let mut expected = items.clone();
        expected.sort_by_key(|a| a.0);
        sort_by(&mut items, |a, b| a.0.cmp(&b.0));
        assert_eq!(items, expected);
        assert_ne!(
            items.iter().map(|p| p.1).collect::<Vec<_>>(),
            (0..1000).collect::<Vec<_>>()
        );
    }

    #[test]
    fn sorts_empty_single_and_reversed() {
        let mut empty: Vec<String> = Vec::new();
        sort_by(&mut empty, Ord::cmp);
        assert!(empty.is_empty());
        let mut one = vec!["a".to_owned()];
        sort_by(&mut one, Ord::cmp);
        assert_eq!(one, ["a"]);
        let mut reversed: Vec<String> = (0..50).rev().map(|i| format!("{i:02}")).collect();
        sort_by(&mut reversed, Ord::cmp);
        let expected: Vec<String> = (0..50).map(|i| format!("{i:02}")).collect();
        assert_eq!(reversed, expected);
    }
}
