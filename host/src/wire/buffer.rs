//! Moving a block between the caller's memory and the guest's float32 buffer.
//!
//! The guest allocates one float32 buffer (channels x samples, C order) and keeps it; the
//! host copies each block into it before the script runs and back out after. A channel
//! row that is contiguous in the caller's memory moves as one `memcpy`.

#[cfg(not(target_endian = "little"))]
compile_error!("pyproc copies f32 blocks straight into little-endian WebAssembly memory");

use ndarray::ArrayViewMut2;

/// A caller's block, lent to the door for the length of one `process` call.
///
/// It is a raw view because the door runs inside the store's future and cannot borrow
/// the caller's block; `Processor::process` puts it in the mailbox, polls the guest once,
/// and takes it out again before returning, so it never outlives the borrow it came from.
#[derive(Debug)]
pub(crate) struct RawBlock {
    rows: Rows,
    channels: usize,
    samples: usize,
    /// Distance between samples of a channel, in elements (1: contiguous rows).
    col_stride: isize,
}

/// Where each channel's samples start.
#[derive(Debug)]
enum Rows {
    /// An ndarray view: row c starts `c * row_stride` elements after `ptr`.
    Strided { ptr: *mut f32, row_stride: isize },
    /// One pointer per channel, as audio hosts hand blocks over (`float* const*`).
    Pointers(*const *mut f32),
}

// SAFETY: a RawBlock only moves together with the `&mut` borrow it was made from (see the
// type's doc); the pointer is never used on two threads at once.
unsafe impl Send for RawBlock {}

impl RawBlock {
    pub fn new(block: &mut ArrayViewMut2<'_, f32>) -> RawBlock {
        let (channels, samples) = block.dim();
        let (row_stride, col_stride) = (block.strides()[0], block.strides()[1]);
        RawBlock { rows: Rows::Strided { ptr: block.as_mut_ptr(), row_stride }, channels, samples, col_stride }
    }

    /// A block given as one pointer per channel.
    ///
    /// # Safety
    /// Every pointer in `channels` must be valid for reads and writes of `samples` floats,
    /// and none may overlap another, for as long as the block is in use (see the type).
    pub unsafe fn from_channel_pointers(channels: &[*mut f32], samples: usize) -> RawBlock {
        RawBlock { rows: Rows::Pointers(channels.as_ptr()), channels: channels.len(), samples, col_stride: 1 }
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Bytes the block takes in the guest's C-order buffer.
    pub fn guest_bytes(&self) -> usize {
        self.channels * self.samples * 4
    }

    fn row_ptr(&self, channel: usize) -> *mut f32 {
        // SAFETY: channel < channels, so the offset stays inside the borrowed array (or
        // the pointer list).
        unsafe {
            match self.rows {
                Rows::Strided { ptr, row_stride } => ptr.offset(channel as isize * row_stride),
                Rows::Pointers(list) => *list.add(channel),
            }
        }
    }

    /// Copies the block into `dst` (C order, `guest_bytes()` long).
    ///
    /// # Safety
    /// The borrow this block was made from must still be live.
    pub unsafe fn copy_to_guest(&self, dst: &mut [u8]) {
        let row_bytes = self.samples * 4;
        for (c, out) in dst[..self.guest_bytes()].chunks_exact_mut(row_bytes.max(1)).enumerate().take(self.channels) {
            let row = self.row_ptr(c);
            if self.col_stride == 1 {
                let row = std::slice::from_raw_parts(row, self.samples);
                out.copy_from_slice(bytemuck::cast_slice(row));
            } else {
                for (s, o) in out.chunks_exact_mut(4).enumerate() {
                    let v = *row.offset(s as isize * self.col_stride);
                    o.copy_from_slice(&v.to_le_bytes());
                }
            }
        }
    }

    /// Copies `src` (C order, `guest_bytes()` long) back over the block.
    ///
    /// # Safety
    /// The borrow this block was made from must still be live.
    pub unsafe fn copy_from_guest(&self, src: &[u8]) {
        let row_bytes = self.samples * 4;
        for (c, input) in src[..self.guest_bytes()].chunks_exact(row_bytes.max(1)).enumerate().take(self.channels) {
            let row = self.row_ptr(c);
            if self.col_stride == 1 {
                let row = std::slice::from_raw_parts_mut(row, self.samples);
                bytemuck::cast_slice_mut::<f32, u8>(row).copy_from_slice(input);
            } else {
                for (s, i) in input.chunks_exact(4).enumerate() {
                    *row.offset(s as isize * self.col_stride) = f32::from_le_bytes(i.try_into().unwrap());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn a_block_round_trips_through_c_order_bytes() {
        let mut a = Array2::from_shape_fn((3, 5), |(c, s)| (c * 10 + s) as f32);
        let expected = a.clone();
        let raw = RawBlock::new(&mut a.view_mut());
        let mut guest = vec![0u8; raw.guest_bytes()];
        unsafe { raw.copy_to_guest(&mut guest) };
        let floats: &[f32] = bytemuck::cast_slice(&guest);
        assert_eq!(floats, expected.as_slice().unwrap());
        let doubled: Vec<f32> = floats.iter().map(|v| v * 2.0).collect();
        unsafe { raw.copy_from_guest(bytemuck::cast_slice(&doubled)) };
        assert_eq!(a, expected * 2.0);
    }

    #[test]
    fn separate_channel_buffers_round_trip() {
        let mut left = vec![1.0f32, 2.0, 3.0];
        let mut right = vec![4.0f32, 5.0, 6.0];
        let pointers = [left.as_mut_ptr(), right.as_mut_ptr()];
        let raw = unsafe { RawBlock::from_channel_pointers(&pointers, 3) };
        let mut guest = vec![0u8; raw.guest_bytes()];
        unsafe { raw.copy_to_guest(&mut guest) };
        assert_eq!(bytemuck::cast_slice::<u8, f32>(&guest), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let negated: Vec<f32> = bytemuck::cast_slice::<u8, f32>(&guest).iter().map(|v| -v).collect();
        unsafe { raw.copy_from_guest(bytemuck::cast_slice(&negated)) };
        assert_eq!((left, right), (vec![-1.0, -2.0, -3.0], vec![-4.0, -5.0, -6.0]));
    }

    #[test]
    fn a_transposed_view_is_copied_element_by_element() {
        // Sample-major storage seen as channels x samples: columns are contiguous, rows not.
        let mut storage = Array2::from_shape_fn((5, 3), |(s, c)| (c * 10 + s) as f32);
        let mut view = storage.view_mut().reversed_axes();
        assert_eq!(view.dim(), (3, 5));
        let raw = RawBlock::new(&mut view);
        let mut guest = vec![0u8; raw.guest_bytes()];
        unsafe { raw.copy_to_guest(&mut guest) };
        let floats: &[f32] = bytemuck::cast_slice(&guest);
        assert_eq!(floats[..5], [0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(floats[5..10], [10.0, 11.0, 12.0, 13.0, 14.0]);
    }
}
