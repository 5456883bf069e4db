//! The order go-yaml v2 writes map keys in (its `keyList.Less` for string keys): a "natural"
//! order where runs of digits compare as numbers (`a9` before `a10`), non-letters sort before
//! letters, and letters compare by code point. `toYaml` output depends on it, while `toJson`
//! uses plain byte order.

use unicode_general_category::{GeneralCategory, get_general_category};

/// Go's `unicode.IsLetter`: general category L.
fn is_letter(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::UppercaseLetter
            | GeneralCategory::LowercaseLetter
            | GeneralCategory::TitlecaseLetter
            | GeneralCategory::ModifierLetter
            | GeneralCategory::OtherLetter
    )
}

/// Go's `unicode.IsDigit`: general category Nd.
fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
        || (!c.is_ascii() && get_general_category(c) == GeneralCategory::DecimalNumber)
}

/// `keyList.Less(a, b)` for two string keys. go-yaml v3 (`v3`) differs in one rule: after a
/// digit a letter sorts before a non-letter (`a1b` before `a1-`).
pub(crate) fn less(a: &[char], b: &[char], v3: bool) -> bool {
    let mut after_digit = false;
    for i in 0..a.len().min(b.len()) {
        if a[i] == b[i] {
            after_digit = is_digit(a[i]);
            continue;
        }
        let al = is_letter(a[i]);
        let bl = is_letter(b[i]);
        if al && bl {
            return a[i] < b[i];
        }
        if al || bl {
            return if v3 && after_digit { al } else { bl };
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if a[i] == '0' || b[i] == '0' {
            // A zero inside a number that already has a non-zero digit is significant.
            if a[..i]
                .iter()
                .rev()
                .take_while(|&&c| is_digit(c))
                .any(|&c| c != '0')
            {
                an = 1;
                bn = 1;
            }
        }
        let mut ai = i;
        while ai < a.len() && is_digit(a[ai]) {
            an = an.wrapping_mul(10).wrapping_add(a[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < b.len() && is_digit(b[bi]) {
            bn = bn.wrapping_mul(10).wrapping_add(b[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return a[i] < b[i];
    }
    a.len() < b.len()
}

/// Whether go-yaml's key order (v2's and v3's) is consistent over `keys` (a strict weak order). It is not
/// for some sets mixing leading zeros with other numbers (`01`, `0b-1`, `1:30` form a cycle);
/// Go then writes such a map in an order that changes with its random map iteration, so no
/// encoder can match Helm there.
pub fn keys_totally_ordered(keys: &[&str]) -> bool {
    let keys: Vec<Vec<char>> = keys.iter().map(|k| k.chars().collect()).collect();
    [false, true].into_iter().all(|v3| {
        let less = |a: &[char], b: &[char]| less(a, b, v3);
        keys.iter().all(|a| {
            keys.iter()
                .all(|b| !less(a, b) || keys.iter().all(|c| !less(b, c) || less(a, c)))
        })
    })
}

/// Sorts `entries` by their keys in go-yaml's order. A merge sort of our own: `less` is not a
/// total order for every set of keys (no more than in Go), and a sort that may panic on an
/// inconsistent comparison must not see untrusted keys.
pub(crate) fn sort_keys<T>(entries: Vec<(String, T)>, v3: bool) -> Vec<(String, T)> {
    if entries.len() < 2 {
        return entries;
    }
    let keys: Vec<Vec<char>> = entries.iter().map(|(k, _)| k.chars().collect()).collect();
    let mut order: Vec<usize> = (0..entries.len()).collect();
    let mut scratch = order.clone();
    merge_sort(&mut order, &mut scratch, &|a, b| {
        less(&keys[a], &keys[b], v3)
    });
    let mut slots: Vec<Option<(String, T)>> = entries.into_iter().map(Some).collect();
    order
        .into_iter()
        .map(|i| slots[i].take().expect("each index once"))
        .collect()
}

/// A stable top-down merge sort of `items`, `scratch` being a buffer of the same length.
fn merge_sort(items: &mut [usize], scratch: &mut [usize], less: &dyn Fn(usize, usize) -> bool) {
    let n = items.len();
    if n <= 1 {
        return;
    }
    let mid = n / 2;
    {
        let (left, right) = items.split_at_mut(mid);
        let (sl, sr) = scratch.split_at_mut(mid);
        merge_sort(left, sl, less);
        merge_sort(right, sr, less);
    }
    scratch[..n].copy_from_slice(items);
    let (mut l, mut r) = (0, mid);
    for slot in items.iter_mut() {
        let take_right = r < n && (l >= mid || less(scratch[r], scratch[l]));
        if take_right {
            *slot = scratch[r];
            r += 1;
        } else {
            *slot = scratch[l];
            l += 1;
        }
    }
}

/// `less` as an `Ordering`, for tests.
#[cfg(test)]
fn cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if less(&a, &b, false) {
        Ordering::Less
    } else if less(&b, &a, false) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let keys = [
            "a10", "a9", "b", "A", "1", "01", "10", "2", "-x", "_", "", "é", "z",
        ];
        let sorted: Vec<String> =
            sort_keys(keys.iter().map(|k| (k.to_string(), ())).collect(), false)
                .into_iter()
                .map(|(k, _)| k)
                .collect();
        assert_eq!(
            sorted,
            [
                "", "-x", "_", "1", "01", "2", "10", "A", "a9", "a10", "b", "z", "é"
            ]
        );
        assert_eq!(cmp("100", "12"), std::cmp::Ordering::Greater);
        assert!(!keys_totally_ordered(&["01", "0b-1", "1:30"]));
        assert!(keys_totally_ordered(&["01", "1", "a", "-"]));
    }
}
