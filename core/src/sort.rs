//! One stable sort shared by every caller.
//!
//! `slice::sort_by` is generic over the element type and the comparator, so each call site links
//! its own copy of the standard library's stable sort (driftsort, quicksort partition, small-sort
//! networks: about 4 KB of wasm each). [`sort_by`] sorts a list of indices instead, through ONE
//! non-generic merge sort, and then moves the elements into that order: the wasm carries a single
//! small sort (wasm size, issue 6). Same result as `slice::sort_by` (stable), still
//! O(n log n) comparisons; each comparison goes through one indirect call.

use std::cmp::Ordering;

/// Sorts `items` by `compare`, stably (equal elements keep their order), like `slice::sort_by`.
pub fn sort_by<T>(items: &mut Vec<T>, mut compare: impl FnMut(&T, &T) -> Ordering) {
    let order = sorted_order(items.len(), &mut |a, b| compare(&items[a], &items[b]));
    let mut taken: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| taken[i].take()));
}

/// The indices `0..len` in the order `compare` gives them (stable). Not inlined: this is the one
/// sort every [`sort_by`] shares. A bottom-up merge sort of the indices (stable by construction,
/// O(n log n) comparisons): about 2.5 KB less wasm than the standard library's sort, which the
/// module no longer links at all.
#[inline(never)]
fn sorted_order(len: usize, compare: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    let mut merged: Vec<usize> = vec![0; len];
    let mut width = 1;
    while width < len {
        // Merge each pair of sorted runs `start..mid` and `mid..end` of `order` into `merged`.
        let mut start = 0;
        while start < len {
            let mid = len.min(start + width);
            let end = len.min(mid + width);
            let (mut left, mut right) = (start, mid);
            for slot in &mut merged[start..end] {
                // The left run wins ties: stable.
                let take_left = right == end
                    || (left < mid && compare(order[left], order[right]) != Ordering::Greater);
                if take_left {
                    *slot = order[left];
                    left += 1;
                } else {
                    *slot = order[right];
                    right += 1;
                }
            }
            start = end;
        }
        std::mem::swap(&mut order, &mut merged);
        width *= 2;
    }
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
    fn every_length_matches_the_standard_stable_sort() {
        // Odd lengths and non-powers of two leave a short last run at each width.
        for len in 0..70 {
            let items: Vec<(usize, usize)> = (0..len).map(|i| ((i * 7 + 3) % 5, i)).collect();
            let mut ours = items.clone();
            sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
            let mut expected = items.clone();
            expected.sort_by_key(|a| a.0);
            assert_eq!(ours, expected, "{len}");
            let mut down = items;
            sort_by(&mut down, |a, b| b.1.cmp(&a.1));
            assert!(down.windows(2).all(|w| w[0].1 > w[1].1), "{len}");
        }
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
