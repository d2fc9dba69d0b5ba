//! What a script publishes for plots (`self.processor.publish(name, value)`): the latest
//! value under each name, kept per processor in storage reused from publish to publish.
//!
//! The values come from the guest and are untrusted: the door checks each frame against
//! the caps here before a byte of it is kept.

/// Bytes one published value may hold (4 MiB: a 64 x 16384 float32 array, or a
/// 1024 x 1024 RGBA figure).
pub const PUBLISH_MAX_BYTES: usize = 4 << 20;
/// Names a processor may publish under; a new name past these is refused.
pub const PUBLISH_MAX_NAMES: usize = 32;
/// Bytes of UTF-8 a name may have.
pub const PUBLISH_MAX_NAME_BYTES: usize = 64;
/// Dimensions a published array may have (0: a scalar).
pub const PUBLISH_MAX_DIMS: usize = 4;

/// The element type of a published value, as numpy names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dtype {
    Bool,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
}

impl Dtype {
    /// Every type, in wire-code order (a type's code is its index here).
    pub const ALL: [Dtype; 11] = {
        use Dtype::*;
        [Bool, I8, U8, I16, U16, I32, U32, I64, U64, F32, F64]
    };

    /// numpy's `dtype.str` for it (little-endian where it has an order).
    pub fn numpy(self) -> &'static str {
        ["|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f4", "<f8"][self as usize]
    }

    /// Bytes per element.
    pub fn item_bytes(self) -> usize {
        [1, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8][self as usize]
    }

    pub(crate) fn from_code(code: u8) -> Option<Dtype> {
        Dtype::ALL.get(code as usize).copied()
    }
}

/// The latest value published under one name.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedValue {
    name: String,
    dtype: Dtype,
    shape: [u32; PUBLISH_MAX_DIMS],
    ndim: u8,
    bytes: Vec<u8>,
    sample_number: i64,
    updates: u64,
}

impl PublishedValue {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The array's shape (empty for a scalar).
    pub fn shape(&self) -> &[u32] {
        &self.shape[..self.ndim as usize]
    }

    /// The values, C order, little-endian, as numpy held them.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The first sample number of the block being processed when it was published (of the
    /// last block, when published outside `process`).
    pub fn sample_number(&self) -> i64 {
        self.sample_number
    }

    /// How many times a value was published under this name.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// `other` into `self` in `self`'s storage (a derived `clone_from` would allocate anew).
    fn copy_from(&mut self, other: &PublishedValue) {
        self.name.clear();
        self.name.push_str(&other.name);
        self.dtype = other.dtype;
        self.shape = other.shape;
        self.ndim = other.ndim;
        self.bytes.clear();
        self.bytes.extend_from_slice(&other.bytes);
        self.sample_number = other.sample_number;
        self.updates = other.updates;
    }

    /// The values as float32 when the dtype is `F32` (None otherwise).
    ///
    /// ```
    /// # fn show(p: &pyproc_host::Published) {
    /// if let Some(threshold) = p.get("threshold").and_then(|v| v.f32s()) {
    ///     println!("threshold {threshold:?}");
    /// }
    /// # }
    /// ```
    pub fn f32s(&self) -> Option<Vec<f32>> {
        (self.dtype == Dtype::F32).then(|| self.bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect())
    }
}

/// One PUBLISH frame, checked by the decoder: what the door stores.
#[derive(Debug, PartialEq, Clone, Copy)]
pub(crate) struct PublishFrame<'a> {
    pub name: &'a str,
    pub dtype: Dtype,
    pub shape: [u32; PUBLISH_MAX_DIMS],
    pub ndim: u8,
    pub sample_number: i64,
}

/// The latest value under each name a processor published (see
/// [`Processor::published`](crate::Processor::published)).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Published {
    values: Vec<PublishedValue>,
}

/// Why a publish was not kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PublishRefused {
    #[error("a {PUBLISH_MAX_NAMES}th name is the last: `{0}` is one too many")]
    TooManyNames(String),
}

impl Published {
    /// The value published last under `name`.
    pub fn get(&self, name: &str) -> Option<&PublishedValue> {
        self.values.iter().find(|v| v.name == name)
    }

    /// Every name's latest value, in the order the names were first published.
    pub fn iter(&self) -> impl Iterator<Item = &PublishedValue> {
        self.values.iter()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Keeps `data` as the latest value under the frame's name. Once a name has held a
    /// value at least this large, this allocates nothing.
    pub(crate) fn store(&mut self, frame: &PublishFrame<'_>, data: &[u8]) -> Result<(), PublishRefused> {
        let at = match self.values.iter().position(|v| v.name == frame.name) {
            Some(at) => at,
            None if self.values.len() >= PUBLISH_MAX_NAMES => return Err(PublishRefused::TooManyNames(frame.name.to_owned())),
            None => {
                self.values.push(PublishedValue {
                    name: frame.name.to_owned(),
                    dtype: frame.dtype,
                    shape: [0; PUBLISH_MAX_DIMS],
                    ndim: 0,
                    bytes: Vec::with_capacity(data.len()),
                    sample_number: 0,
                    updates: 0,
                });
                self.values.len() - 1
            }
        };
        let value = &mut self.values[at];
        value.dtype = frame.dtype;
        value.shape = frame.shape;
        value.ndim = frame.ndim;
        value.bytes.clear();
        value.bytes.extend_from_slice(data);
        value.sample_number = frame.sample_number;
        value.updates += 1;
        Ok(())
    }

    /// Copies `other`'s values in place after the first `kept` of `self`'s, skipping the
    /// names among those; returns how many values lead `self` now (the rest are stale, for
    /// [`keep_first`](Self::keep_first)). Reuses `self`'s storage: once it has held values
    /// of these names and sizes, this allocates nothing.
    pub(crate) fn copy_after(&mut self, kept: usize, other: &Published) -> usize {
        let mut at = kept;
        for v in &other.values {
            if self.values[..kept].iter().any(|mine| mine.name == v.name) {
                continue;
            }
            match self.values.get_mut(at) {
                Some(mine) => mine.copy_from(v),
                None => self.values.push(v.clone()),
            }
            at += 1;
        }
        at
    }

    /// Drops every value after the first `n`.
    pub(crate) fn keep_first(&mut self, n: usize) {
        self.values.truncate(n);
    }

    /// Copies `other` into `self`, reusing `self`'s storage (no allocation once `self` has
    /// held values of these names and sizes).
    pub fn clone_from_published(&mut self, other: &Published) {
        let n = self.copy_after(0, other);
        self.keep_first(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(name: &str, sample_number: i64) -> PublishFrame<'_> {
        PublishFrame { name, dtype: Dtype::F32, shape: [2, 0, 0, 0], ndim: 1, sample_number }
    }

    #[test]
    fn the_latest_value_under_a_name_wins() {
        let mut p = Published::default();
        p.store(&frame("x", 0), &[1; 8]).unwrap();
        p.store(&frame("x", 1024), &[2; 8]).unwrap();
        let x = p.get("x").unwrap();
        assert_eq!((x.bytes(), x.sample_number(), x.updates(), x.shape()), (&[2u8; 8][..], 1024, 2, &[2u32][..]));
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn names_past_the_cap_are_refused_and_the_others_kept() {
        let mut p = Published::default();
        for i in 0..PUBLISH_MAX_NAMES {
            p.store(&frame(&format!("n{i}"), 0), &[0; 8]).unwrap();
        }
        assert_eq!(p.store(&frame("one-more", 0), &[0; 8]), Err(PublishRefused::TooManyNames("one-more".into())));
        assert!(p.store(&frame("n3", 5), &[0; 8]).is_ok(), "a known name is still updated");
        assert_eq!(p.len(), PUBLISH_MAX_NAMES);
    }

    #[test]
    fn copying_after_keeps_the_first_value_of_a_name_and_drops_stale_ones_on_keep_first() {
        let (mut a, mut b, mut out) = (Published::default(), Published::default(), Published::default());
        a.store(&frame("x", 1), &[1; 8]).unwrap();
        b.store(&frame("x", 2), &[2; 8]).unwrap();
        b.store(&frame("y", 2), &[3; 8]).unwrap();
        out.store(&frame("stale", 0), &[0; 8]).unwrap();
        out.store(&frame("stale too", 0), &[0; 8]).unwrap();
        out.store(&frame("and this", 0), &[0; 8]).unwrap();
        let n = out.copy_after(0, &a);
        let n = out.copy_after(n, &b);
        out.keep_first(n);
        let names: Vec<_> = out.iter().map(|v| (v.name(), v.sample_number())).collect();
        assert_eq!(names, [("x", 1), ("y", 2)]);
        assert_eq!(out.get("y").unwrap().bytes(), &[3; 8]);
    }
}
