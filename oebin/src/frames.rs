//! Converting between `continuous.dat`'s layout (int16 frames, one per sample, channels
//! interleaved) and a block as scripts see it (f32 in physical units, channels x samples).
//!
//! Either direction is a transpose: done element by element it reads one layout in order
//! and strides across the other, missing the cache at every step. So a block is walked in
//! tiles of `TILE_SAMPLES` samples x `TILE_CHANNELS` channels, small enough that both sides
//! of a tile stay in L1 while it is converted. A block that is not in standard
//! (row-major, contiguous) layout takes the element-by-element path. Every path gives the
//! same bits: writing converts runs of values with AVX2 where the CPU has it, and the
//! tests hold that to the scalar conversion value for value.

use ndarray::{ArrayView2, ArrayViewMut2};

#[cfg(target_arch = "x86_64")]
mod int16_avx2;

const TILE_SAMPLES: usize = 64;
const TILE_CHANNELS: usize = 64;

/// Fills `out` (channels x samples) from `bytes` (`out.ncols()` little-endian int16 frames of
/// `out.nrows()` channels), each value times its channel's `bit_volts`.
pub(crate) fn frames_to_block(bytes: &[u8], bit_volts: &[f32], out: &mut ArrayViewMut2<'_, f32>) {
    let (channels, n) = out.dim();
    assert_eq!(bytes.len(), channels * n * 2, "one frame per sample");
    assert_eq!(bit_volts.len(), channels, "one scale per channel");
    let value = |s: usize, c: usize| {
        let at = (s * channels + c) * 2;
        i16::from_le_bytes([bytes[at], bytes[at + 1]]) as f32 * bit_volts[c]
    };
    let Some(out) = out.as_slice_mut() else {
        for ((c, s), v) in out.indexed_iter_mut() {
            *v = value(s, c);
        }
        return;
    };
    // Each tile is converted frame by frame into `tile` (samples x channels, in L1), then
    // transposed out row by row: both loops run over contiguous memory.
    let mut tile = [[0f32; TILE_CHANNELS]; TILE_SAMPLES];
    for (s0, c0, s1, c1) in tiles(n, channels) {
        let (ns, nc) = (s1 - s0, c1 - c0);
        for (i, converted) in tile[..ns].iter_mut().enumerate() {
            let frame = &bytes[((s0 + i) * channels + c0) * 2..][..nc * 2];
            for ((to, v), scale) in converted[..nc].iter_mut().zip(frame.chunks_exact(2)).zip(&bit_volts[c0..c1]) {
                *to = i16::from_le_bytes([v[0], v[1]]) as f32 * scale;
            }
        }
        for j in 0..nc {
            for (to, converted) in out[(c0 + j) * n + s0..][..ns].iter_mut().zip(&tile[..ns]) {
                *to = converted[j];
            }
        }
    }
}

/// Appends `block` (channels x samples, physical units) to `frames` as int16 frames, each
/// value times its channel's `scale`, rounded and clipped by [`to_int16`]; returns how many
/// values were clipped. `frames` keeps its capacity from block to block.
pub(crate) fn block_to_frames(block: ArrayView2<'_, f32>, scale: &[f64], frames: &mut Vec<u8>) -> u64 {
    let (channels, n) = block.dim();
    assert_eq!(scale.len(), channels, "one scale per channel");
    let start = frames.len();
    frames.resize(start + channels * n * 2, 0);
    let frames = &mut frames[start..];
    let mut clipped = 0u64;
    match block.as_slice() {
        Some(values) => {
            let convert = run_converter();
            // Each tile is converted channel by channel into `tile` (channels x samples, in
            // L1), then transposed out frame by frame: both loops run over contiguous memory.
            let mut tile = [[0i16; TILE_SAMPLES]; TILE_CHANNELS];
            for (s0, c0, s1, c1) in tiles(n, channels) {
                let (ns, nc) = (s1 - s0, c1 - c0);
                for (j, converted) in tile[..nc].iter_mut().enumerate() {
                    clipped += convert(&values[(c0 + j) * n + s0..][..ns], scale[c0 + j], &mut converted[..ns]);
                }
                for i in 0..ns {
                    let frame = &mut frames[((s0 + i) * channels + c0) * 2..][..nc * 2];
                    for (pair, converted) in frame.chunks_exact_mut(2).zip(&tile[..nc]) {
                        pair.copy_from_slice(&converted[i].to_le_bytes());
                    }
                }
            }
        }
        None => {
            for ((c, s), v) in block.indexed_iter() {
                let (value, clip) = to_int16(*v as f64 * scale[c]);
                clipped += clip as u64;
                let at = (s * channels + c) * 2;
                frames[at..at + 2].copy_from_slice(&value.to_le_bytes());
            }
        }
    }
    clipped
}

/// Converts a run of one channel's values: `out[i] = to_int16(values[i] as f64 * factor)`,
/// returning how many were clipped.
type RunConverter = fn(&[f32], f64, &mut [i16]) -> u64;

/// The fastest run converter this CPU can execute; each gives the same bits.
fn run_converter() -> RunConverter {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU running this has just been seen to support AVX2.
        return |values, factor, out| unsafe { int16_avx2::convert_run(values, factor, out) };
    }
    convert_run
}

fn convert_run(values: &[f32], factor: f64, out: &mut [i16]) -> u64 {
    let mut clipped = 0u64;
    for (to, v) in out.iter_mut().zip(values) {
        let (value, clip) = to_int16(*v as f64 * factor);
        clipped += clip as u64;
        *to = value;
    }
    clipped
}

/// (first sample, first channel, end sample, end channel) of each tile covering
/// `samples` x `channels`.
fn tiles(samples: usize, channels: usize) -> impl Iterator<Item = (usize, usize, usize, usize)> {
    (0..samples).step_by(TILE_SAMPLES).flat_map(move |s0| {
        (0..channels).step_by(TILE_CHANNELS).map(move |c0| (s0, c0, (s0 + TILE_SAMPLES).min(samples), (c0 + TILE_CHANNELS).min(channels)))
    })
}

/// Rounds to int16 (halves away from zero, as `f64::round`); values outside the range
/// (and NaN) are clipped and reported.
///
/// Rounds with additions (exact in this range) instead of calling `round`, a library call
/// on baseline x86-64 that took a third of the time of writing a block.
///
/// ```
/// assert_eq!(pyproc_oebin::to_int16(-2.5), (-3, false));
/// assert_eq!(pyproc_oebin::to_int16(40000.0), (i16::MAX, true));
/// ```
pub fn to_int16(v: f64) -> (i16, bool) {
    // Written without branches so that a block's loop can be vectorized: every case is
    // computed and the right one selected.
    let high = v >= i16::MAX as f64 + 0.5;
    // -32768.5 rounds (away from zero) to -32769: clipped, as 32767.5 is.
    let low = v <= i16::MIN as f64 - 0.5;
    let inside = !(high || low || v.is_nan());
    let v = if inside { v } else { 0.0 };
    // Adding 1.5 x 2^52 leaves the value rounded to an integer (ties to even) in the low
    // 32 bits of the sum, with plain additions a vector unit does several at a time.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let even = (v + SHIFT) - SHIFT;
    let tie = (v - even).abs() == 0.5;
    let away = if tie { v + 0.5f64.copysign(v) } else { even };
    let rounded = (away + SHIFT).to_bits() as i32;
    let value = if high {
        i16::MAX
    } else if low {
        i16::MIN
    } else {
        rounded as i16
    };
    (value, !inside)
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, ShapeBuilder};

    use super::*;

    /// Values that round every way, clip both ways, and NaN, spread over channels and samples.
    fn awkward(channels: usize, samples: usize) -> Array2<f32> {
        Array2::from_shape_fn((channels, samples), |(c, s)| match (c * 7 + s * 13) % 11 {
            0 => f32::NAN,
            1 => 7_000.0,
            2 => -7_000.0,
            3 => 0.0975 * (s as f32 - 500.0),
            4 => -0.2925,
            _ => ((c * 31 + s * 17) % 4001) as f32 * 0.37 - 740.0,
        })
    }

    fn scales(channels: usize) -> Vec<f64> {
        (0..channels).map(|c| 1.0 / (0.195 + 0.05 * (c % 3) as f64)).collect()
    }

    #[test]
    fn tiled_writing_gives_the_same_bytes_and_clip_count_as_element_by_element() {
        for (channels, samples) in [(3, 1000), (385, 1023), (64, 64), (2, 3), (70, 5)] {
            let block = awkward(channels, samples);
            let column_major = {
                let mut a = Array2::<f32>::zeros((channels, samples).f());
                a.assign(&block);
                a
            };
            assert!(column_major.as_slice().is_none(), "takes the element-by-element path");
            let (mut tiled, mut simple) = (vec![9u8], vec![9u8]);
            let clipped = block_to_frames(block.view(), &scales(channels), &mut tiled);
            assert_eq!(clipped, block_to_frames(column_major.view(), &scales(channels), &mut simple), "{channels} x {samples}");
            assert!(clipped > 0, "the test data clips");
            assert_eq!(tiled, simple, "{channels} x {samples}");
        }
    }

    #[test]
    fn tiled_reading_gives_the_same_values_as_element_by_element() {
        for (channels, samples) in [(3, 1000), (385, 1023), (64, 64), (2, 3), (70, 5)] {
            let bytes: Vec<u8> = (0..channels * samples * 2).map(|i| (i * 7919 % 251) as u8).collect();
            let bit_volts: Vec<f32> = (0..channels).map(|c| 0.195 + c as f32 * 0.001).collect();
            let mut tiled = Array2::<f32>::zeros((channels, samples));
            let mut simple = Array2::<f32>::zeros((channels, samples).f());
            frames_to_block(&bytes, &bit_volts, &mut tiled.view_mut());
            frames_to_block(&bytes, &bit_volts, &mut simple.view_mut());
            assert_eq!(tiled, simple, "{channels} x {samples}");
            let (s, c) = (samples - 1, channels - 1);
            let at = (s * channels + c) * 2;
            assert_eq!(tiled[[c, s]], i16::from_le_bytes([bytes[at], bytes[at + 1]]) as f32 * bit_volts[c], "frames are samples, channels interleaved");
        }
    }

    #[test]
    fn values_outside_int16_are_clipped_not_wrapped() {
        assert_eq!(to_int16(40000.0), (i16::MAX, true));
        assert_eq!(to_int16(-40000.0), (i16::MIN, true));
        assert_eq!(to_int16(f64::NAN), (0, true));
        assert_eq!(to_int16(-2.5), (-3, false));
        assert_eq!(to_int16(32767.4), (32767, false));
        assert_eq!(to_int16(-32768.5), (i16::MIN, true), "rounds away to -32769: clipped, not wrapped to 32767");
        assert_eq!(to_int16(-32768.49999), (i16::MIN, false));
    }

    #[test]
    fn this_cpus_run_converter_gives_the_scalar_conversions_bits_and_clip_count() {
        // Every half step of the int16 range and its neighbours one ulp away, the range's
        // edges, NaN and infinities, through two factors (one exact, one not).
        let mut values: Vec<f32> = vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 32767.5, -32768.5, 32767.498, -32768.498, 1e30, -1e30];
        for i in -65537..=65537 {
            let half = i as f32 * 0.5;
            values.extend([half, f32::from_bits(half.to_bits() + 1), f32::from_bits(half.to_bits().wrapping_sub(1))]);
        }
        values.extend((0..100_003).map(|i| ((i * 7919) % 131_071) as f32 * 0.731 - 47_000.0));
        for factor in [1.0, 1.0 / 0.195] {
            let (mut fast, mut scalar) = (vec![0i16; values.len()], vec![0i16; values.len()]);
            let clipped = run_converter()(&values, factor, &mut fast);
            assert_eq!(clipped, convert_run(&values, factor, &mut scalar), "factor {factor}");
            assert!(clipped > 0);
            if let Some(i) = (0..values.len()).find(|&i| fast[i] != scalar[i]) {
                panic!("{} x {factor}: {} instead of {}", values[i], fast[i], scalar[i]);
            }
        }
    }

    #[test]
    fn rounding_matches_f64_round_halves_away_from_zero() {
        let mut values = vec![0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994, 32766.5, -32767.5, 32767.49999, -32768.49999, -0.0];
        values.extend((0..200_000).map(|i| (i as f64 - 100_000.0) * 0.327_733));
        values.extend((0..20_000).map(|i| (i as f64 - 10_000.0) * 3.25 + 0.5));
        values.retain(|v| (-32768.5..32767.5).contains(v));
        for v in values {
            assert_eq!(to_int16(v), (v.round() as i16, false), "{v}");
        }
    }
}
