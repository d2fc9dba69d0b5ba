//! The float -> int16 conversion of a run of values with AVX2, four values per
//! instruction: the same IEEE operations as [`super::to_int16`] give (checked value for
//! value in the tests), without the mask shuffling that compiler-vectorized code spends
//! most of its time on.

use std::arch::x86_64::*;

use super::to_int16;

/// `out[i] = to_int16(values[i] as f64 * factor)`; returns how many values were clipped.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn convert_run(values: &[f32], factor: f64, out: &mut [i16]) -> u64 {
    let n = values.len().min(out.len());
    let scale = _mm256_set1_pd(factor);
    let (above, below) = (_mm256_set1_pd(i16::MAX as f64 + 0.5), _mm256_set1_pd(i16::MIN as f64 - 0.5));
    let (max, min) = (_mm256_set1_pd(i16::MAX as f64), _mm256_set1_pd(i16::MIN as f64));
    // Just under one half: adding it (with the value's sign) and truncating rounds halves
    // away from zero and everything else to the nearest integer, exactly.
    let (nearly_half, sign) = (_mm256_set1_pd(0.499_999_999_999_999_94), _mm256_set1_pd(-0.0));
    let mut clipped = 0u64;
    let four = |v: __m256d, clipped: &mut u64| -> __m128i {
        let v = _mm256_mul_pd(v, scale);
        // False for NaN as for values out of range: both are clipped.
        let inside = _mm256_and_pd(_mm256_cmp_pd::<_CMP_GT_OQ>(v, below), _mm256_cmp_pd::<_CMP_LT_OQ>(v, above));
        *clipped += 4 - (_mm256_movemask_pd(inside) as u32).count_ones() as u64;
        let away = _mm256_add_pd(v, _mm256_or_pd(nearly_half, _mm256_and_pd(v, sign)));
        let rounded = _mm256_round_pd::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(away);
        let not_nan = _mm256_cmp_pd::<_CMP_ORD_Q>(v, v);
        _mm256_cvttpd_epi32(_mm256_min_pd(_mm256_max_pd(_mm256_and_pd(rounded, not_nan), min), max))
    };
    let mut at = 0;
    while at + 8 <= n {
        // SAFETY: at + 8 <= n, and both slices hold at least n values.
        let p = values.as_ptr().add(at);
        let low = four(_mm256_cvtps_pd(_mm_loadu_ps(p)), &mut clipped);
        let high = four(_mm256_cvtps_pd(_mm_loadu_ps(p.add(4))), &mut clipped);
        // Every value is within int16 already: the saturating pack only narrows.
        _mm_storeu_si128(out.as_mut_ptr().add(at).cast::<__m128i>(), _mm_packs_epi32(low, high));
        at += 8;
    }
    for (to, v) in out[at..n].iter_mut().zip(&values[at..n]) {
        let (value, clip) = to_int16(*v as f64 * factor);
        clipped += clip as u64;
        *to = value;
    }
    clipped
}

