//! A paged bitset over the 32-bit serial space.
//!
//! Hand-written because the crates do not fit both needs at once: a dense bitset
//! (`fixedbitset`, `bitvec`) is the fastest test-and-set (1–3 ns, brief §5) but allocates up to
//! the highest serial, and box-office ranges may sit high up the serial space; a roaring bitmap
//! is compact at any density but measured 9–21 ns. Pages of 65,536 bits allocated on first use
//! give the dense speed with memory proportional to the pages touched: 8 KiB per 65,536
//! serials, 128 KiB per million dense tickets.

const PAGE_BITS: usize = 1 << 16;
const WORDS_PER_PAGE: usize = PAGE_BITS / 64;

type Page = Box<[u64; WORDS_PER_PAGE]>;

/// A set of serials (`u32`), dense within each 65,536-serial page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PagedBitset {
    pages: Vec<Option<Page>>,
    len: usize,
}

fn split(serial: u32) -> (usize, usize, u64) {
    let serial = serial as usize;
    let page = serial / PAGE_BITS;
    let bit = serial % PAGE_BITS;
    (page, bit / 64, 1u64 << (bit % 64))
}

impl PagedBitset {
    /// Whether `serial` is in the set.
    pub(crate) fn contains(&self, serial: u32) -> bool {
        let (page, word, mask) = split(serial);
        self.pages.get(page).and_then(Option::as_ref).is_some_and(|p| p[word] & mask != 0)
    }

    /// Adds `serial`; returns whether it was new.
    pub(crate) fn insert(&mut self, serial: u32) -> bool {
        let (page, word, mask) = split(serial);
        if self.pages.len() <= page {
            self.pages.resize_with(page + 1, || None);
        }
        let p = self.pages[page].get_or_insert_with(|| Box::new([0; WORDS_PER_PAGE]));
        let new = p[word] & mask == 0;
        p[word] |= mask;
        self.len += usize::from(new);
        new
    }

    /// Number of serials in the set.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes of bit storage allocated (for the memory figure in docs/benchmarks.md).
    pub(crate) fn allocated_bytes(&self) -> usize {
        self.pages.iter().flatten().count() * WORDS_PER_PAGE * 8
            + self.pages.len() * std::mem::size_of::<Option<Page>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn high_serials_allocate_one_page() {
        let mut set = PagedBitset::default();
        assert!(set.insert(u32::MAX));
        assert!(!set.insert(u32::MAX));
        assert!(set.contains(u32::MAX));
        assert!(!set.contains(u32::MAX - 1));
        // One 8 KiB page plus the page table (65,536 slots of one pointer each).
        assert_eq!(set.allocated_bytes(), 8192 + 65_536 * 8);
    }

    #[test]
    fn a_million_dense_serials_take_128_kib_of_bits() {
        let mut set = PagedBitset::default();
        for s in 0..1_000_000 {
            set.insert(s);
        }
        assert_eq!(set.len(), 1_000_000);
        assert_eq!(set.allocated_bytes(), 16 * 8192 + 16 * 8);
    }

    proptest! {
        #[test]
        fn behaves_like_a_set(ops in proptest::collection::vec(any::<u32>().prop_map(|s| s % 200_000), 0..300)) {
            let mut set = PagedBitset::default();
            let mut model = BTreeSet::new();
            for s in ops {
                prop_assert_eq!(set.insert(s), model.insert(s));
                prop_assert!(set.contains(s));
            }
            prop_assert_eq!(set.len(), model.len());
        }
    }
}
