//! Every kind of frame, through the real boundary: the host encodes commands with extreme
//! and non-ASCII values, the guest runtime decodes them and the script sends them back
//! (printed, and as events and spikes the runtime encodes), and the host decodes what came
//! back. A field the two sides lay out differently comes back changed.

mod common;

use common::{engine, Done, Printed};
use ndarray::Array2;
use pyproc_host::{Callback, Processor, SpikeIn, SpikeOut, TtlEvent, TtlEventIn};

const ECHO: &str = r#"
class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.p = processor
        print("init", num_channels, repr(sample_rate))

    def handle_ttl_event(self, source_node, channel, sample_number, line, state):
        print("ttl", repr((source_node, channel, sample_number, line, state)))
        self.p.add_python_event(line, state, sample_number=sample_number)

    def handle_spike(self, source_node, electrode_name, num_channels, num_samples, sample_number, sorted_id, spike_data):
        print("spike", repr((source_node, electrode_name, num_channels, num_samples, sample_number, sorted_id)),
              spike_data.shape, repr(float(spike_data[-1, -1])), repr(float(spike_data[0, 0])))
        self.p.add_python_spike(num_channels - 1, sample_number, waveform=spike_data[0], sorted_id=65535)

    def process(self, data):
        print("block", self.p.first_sample_number, data.shape)
        self.p.add_python_spike(1, self.p.first_sample_number, sorted_id=0)
        if data[0, 0] == 13:
            def inner():
                raise KeyError("déjà vu")
            inner()
"#;

#[test]
fn commands_and_answers_keep_every_field_across_the_boundary() {
    let printed = Printed::default();
    let mut p = Processor::builder_for_source(&engine(), "/lab/échos/echo.py", ECHO)
        .stream(3, 29_999.75)
        .output(printed.sink())
        .build()
        .unwrap();
    let event = TtlEventIn { source_node: i64::MIN, channel: "TTL ✓ ch", sample_number: i64::MAX, line: 255, state: true };
    p.handle_ttl_event(&event).unwrap();
    let waveform = Array2::from_shape_fn((3, 40), |(c, s)| (c * 40 + s) as f32 - 0.5);
    let spike = SpikeIn { source_node: 7, electrode_name: "Électrode 1", sample_number: -3, sorted_id: 42, waveform: waveform.view() };
    p.handle_spike(&spike).unwrap();
    let mut block = Array2::<f32>::zeros((3, 5));
    let emitted = p.process(block.view_mut(), -9).done();
    assert_eq!(emitted.events, [TtlEvent { sample_number: i64::MAX, line: 255, state: true }]);
    let own: [f32; 40] = std::array::from_fn(|s| s as f32 - 0.5);
    assert_eq!(
        emitted.spikes,
        [
            SpikeOut { sample_number: -3, channel: 2, sorted_id: 65535, waveform: Some(own) },
            SpikeOut { sample_number: -9, channel: 1, sorted_id: 0, waveform: None },
        ]
    );
    assert_eq!(
        printed.take(),
        [
            "init 3 29999.75".to_owned(),
            format!("ttl ({}, 'TTL ✓ ch', {}, 255, True)", i64::MIN, i64::MAX),
            "spike (7, 'Électrode 1', 3, 40, -3, 42) (3, 40) 118.5 -0.5".to_owned(),
            "block -9 (3, 5)".to_owned(),
        ]
    );

    block[[0, 0]] = 13.0;
    let err = p.process(block.view_mut(), 0).unwrap_err();
    let exception = err.python_exception().expect("a Python exception");
    assert_eq!((exception.callback, exception.type_name.as_str(), exception.message.as_str()), (Callback::Process, "KeyError", "'déjà vu'"));
    let frames: Vec<(&str, u32, &str)> = exception.frames.iter().map(|f| (f.file.as_str(), f.line, f.function.as_str())).collect();
    assert_eq!(frames, [("/lab/échos/echo.py", 22, "process"), ("/lab/échos/echo.py", 21, "inner")]);
    assert_eq!(exception.line, Some(21), "the innermost of the script's frames");
    assert!(exception.traceback.ends_with("KeyError: 'déjà vu'\n"), "{}", exception.traceback);
}
