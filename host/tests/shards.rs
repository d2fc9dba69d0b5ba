//! A channel-independent script split between shards: the same output as one interpreter,
//! a failing shard costs only its own channels, and the shards' events come back as one
//! stream in sample order.

mod common;

use common::{builder, engine, example, Done};
use ndarray::{s, Array2};
use pyproc_host::{Processor, ProcessorBuilder, TtlEventIn};

/// A deterministic random signal (xorshift), in µV, channels x samples.
fn random_signal(channels: usize, samples: usize, mut seed: u64) -> Array2<f32> {
    Array2::from_shape_fn((channels, samples), |_| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 20_001) as f32 / 100.0 - 100.0
    })
}

/// Block lengths that do not divide each other, so block edges fall everywhere.
const BLOCKS: [usize; 5] = [1024, 777, 1024, 300, 1500];

fn from_source(name: &str, source: &str) -> ProcessorBuilder {
    Processor::builder_for_source(&engine(), name, source)
}

#[test]
fn bandpass_with_two_or_three_shards_is_bit_identical_to_one_interpreter() {
    let channels = 8;
    let signal = random_signal(channels, BLOCKS.iter().sum(), 42);
    let mut one = builder(example("bandpass_filter.py")).stream(channels, 30_000.0).build().unwrap();
    one.start_acquisition().unwrap();
    let mut expected = signal.clone();
    let mut at = 0;
    for n in BLOCKS {
        one.process(expected.slice_mut(s![.., at..at + n]), at as i64).done();
        at += n;
    }
    assert_ne!(expected, signal, "the filter changed the signal");
    for shards in [2, 3] {
        let mut sharded = builder(example("bandpass_filter.py")).stream(channels, 30_000.0).sharded().shards(shards).build().unwrap();
        assert_eq!(sharded.shard_count(), shards);
        sharded.start_acquisition().unwrap();
        let mut out = signal.clone();
        let mut at = 0;
        for n in BLOCKS {
            let processed = sharded.process(out.slice_mut(s![.., at..at + n]), at as i64).unwrap();
            assert!(processed.failed.is_empty() && processed.passed_through.is_empty(), "{:?}", processed.failed);
            assert_eq!(processed.ran, shards);
            at += n;
        }
        assert!(out.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits()), "{shards} shards differ from one interpreter");
    }
}

/// Doubles its channels, except in a shard of two channels, whose `process` raises.
const FAILS_IN_A_GROUP_OF_TWO: &str = "\
class PyProcessor:
    channel_independent = True
    def __init__(self, processor, num_channels, sample_rate):
        self.num_channels = num_channels
    def process(self, data):
        if self.num_channels == 2:
            raise ValueError('this group has two channels')
        data *= 2
";

#[test]
fn a_shard_that_raises_passes_only_its_channels_through_and_the_error_names_them() {
    // 8 channels in 3 shards: channels 0-2, 3-5 and 6-7; only the last has two.
    let mut p = from_source("group_of_two.py", FAILS_IN_A_GROUP_OF_TWO).stream(8, 30_000.0).sharded().shards(3).build().unwrap();
    let block = random_signal(8, 256, 7);
    let mut out = block.clone();
    let processed = p.process(out.view_mut(), 0).unwrap();
    assert_eq!(processed.ran, 2);
    assert_eq!(processed.failed.len(), 1, "{:?}", processed.failed);
    let error = &processed.failed[0];
    let text = error.to_string();
    assert!(text.contains("shard 3 of 3 (channels 6–7"), "{text}");
    assert!(text.contains("this group has two channels"), "{text}");
    assert_eq!(error.python_exception().map(|e| e.type_name.as_str()), Some("ValueError"));
    assert_eq!(out.slice(s![..6, ..]), block.slice(s![..6, ..]).mapv(|v| v * 2.0));
    assert_eq!(out.slice(s![6.., ..]), block.slice(s![6.., ..]));
}

/// Emits, per block, a TTL event on line `num_channels` at +10 and +30 samples (a shard
/// of two channels also at +5), and a spike on its own first channel.
const EMITS_BY_GROUP_SIZE: &str = "\
class PyProcessor:
    channel_independent = True
    def __init__(self, processor, num_channels, sample_rate):
        self.processor, self.n = processor, num_channels
    def process(self, data):
        first = self.processor.first_sample_number
        offsets = [5, 10, 30] if self.n == 2 else [10, 30]
        for offset in offsets:
            self.processor.add_python_event(self.n, True, sample_number=first + offset)
        self.processor.add_python_spike(0, first + 20 + self.n)
";

#[test]
fn events_and_spikes_out_are_merged_in_sample_order_ties_in_channel_order() {
    let mut p = from_source("emitter.py", EMITS_BY_GROUP_SIZE).stream(8, 30_000.0).sharded().shards(3).build().unwrap();
    let mut block = Array2::<f32>::zeros((8, 100));
    let processed = p.process(block.view_mut(), 1000).unwrap();
    let events: Vec<(i64, u8)> = processed.emitted.events.iter().map(|e| (e.sample_number, e.line)).collect();
    assert_eq!(events, vec![(1005, 2), (1010, 3), (1010, 3), (1010, 2), (1030, 3), (1030, 3), (1030, 2)]);
    // Each shard's channel 0 is the stream's first channel of its group.
    let spikes: Vec<(i64, u32)> = processed.emitted.spikes.iter().map(|s| (s.sample_number, s.channel)).collect();
    assert_eq!(spikes, vec![(1022, 6), (1023, 0), (1023, 3)]);
}

/// Writes the channel count its `__init__` saw into every sample.
const SHOWS_ITS_CHANNEL_COUNT: &str = "\
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.num_channels = num_channels
    def process(self, data):
        data[:] = self.num_channels
";

#[test]
fn a_script_without_the_declaration_runs_in_one_interpreter() {
    let mut p = from_source("count.py", SHOWS_ITS_CHANNEL_COUNT).stream(8, 30_000.0).sharded().shards(3).build().unwrap();
    assert_eq!((p.shard_count(), p.channel_independent()), (1, false));
    let mut block = Array2::<f32>::zeros((8, 16));
    p.process(block.view_mut(), 0).unwrap();
    assert!(block.iter().all(|v| *v == 8.0), "{block}");
}

#[test]
fn forced_shards_each_see_their_own_channel_count() {
    let mut p = from_source("count.py", SHOWS_ITS_CHANNEL_COUNT).stream(8, 30_000.0).sharded().shards(3).assume_channel_independent(true).build().unwrap();
    assert_eq!((p.shard_count(), p.channel_independent()), (3, false));
    let mut block = Array2::<f32>::zeros((8, 16));
    p.process(block.view_mut(), 0).unwrap();
    let firsts: Vec<f32> = block.column(0).to_vec();
    assert_eq!(firsts, vec![3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 2.0, 2.0]);
}

#[test]
fn shards_never_outnumber_channels_and_set_stream_splits_again() {
    let source = SHOWS_ITS_CHANNEL_COUNT.replace("class PyProcessor:\n", "class PyProcessor:\n    channel_independent = True\n");
    let mut p = from_source("count.py", &source).stream(2, 30_000.0).sharded().shards(5).build().unwrap();
    assert_eq!(p.shard_count(), 2);
    p.set_stream(5, 30_000.0).unwrap();
    let mut block = Array2::<f32>::zeros((5, 4));
    p.process(block.view_mut(), 0).unwrap();
    assert_eq!(block.column(0).to_vec(), vec![3.0, 3.0, 3.0, 2.0, 2.0]);
}

#[test]
fn a_ttl_event_reaches_every_shard() {
    let source = "\
class PyProcessor:
    channel_independent = True
    def __init__(self, processor, num_channels, sample_rate):
        self.processor, self.n = processor, num_channels
    def process(self, data):
        pass
    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        self.processor.add_python_event(self.n, state, sample_number=sample_number)
";
    let mut p = from_source("echo.py", source).stream(5, 30_000.0).sharded().shards(2).build().unwrap();
    let event = TtlEventIn { source_node: 1, channel: "TTL", sample_number: 3, line: 0, state: true };
    p.handle_ttl_event(&event).unwrap();
    let mut block = Array2::<f32>::zeros((5, 8));
    let processed = p.process(block.view_mut(), 0).unwrap();
    let lines: Vec<u8> = processed.emitted.events.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 2]);
}

#[test]
fn a_stream_with_fewer_channels_than_shards_leaves_the_extra_ones_idle() {
    let source = SHOWS_ITS_CHANNEL_COUNT.replace("class PyProcessor:\n", "class PyProcessor:\n    channel_independent = True\n");
    let mut p = from_source("count.py", &source).stream(3, 30_000.0).sharded().shards(3).build().unwrap();
    p.set_stream(2, 30_000.0).unwrap();
    let mut two = Array2::<f32>::zeros((2, 4));
    let processed = p.process(two.view_mut(), 0).unwrap();
    assert_eq!((processed.ran, processed.failed.len()), (2, 0));
    assert_eq!(two.column(0).to_vec(), vec![1.0, 1.0]);
    p.set_stream(6, 30_000.0).unwrap();
    let mut six = Array2::<f32>::zeros((6, 4));
    p.process(six.view_mut(), 0).unwrap();
    assert_eq!(six.column(0).to_vec(), vec![2.0; 6]);
}
