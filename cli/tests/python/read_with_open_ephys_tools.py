"""Opens a pyproc output recording with open-ephys-python-tools (and Neo) and prints what
they see, as JSON, for cli/tests/recordings.rs to compare.

    python read_with_open_ephys_tools.py OUTPUT_ROOT INPUT_RECORDING
"""

import json
import sys

import numpy as np
from neo.rawio import OpenEphysBinaryRawIO
from open_ephys.analysis import Session
from open_ephys.analysis.formats.BinaryRecording import BinaryRecording

output_root, input_recording = sys.argv[1], sys.argv[2]
session = Session(output_root)
# Without "Record Node *" folders, the session folder itself is read as a Record Node.
recording = session.recordings[0]
original = BinaryRecording(input_recording)

out, inp = recording.continuous[0], original.continuous[0]
n = out.samples.shape[0]
out_uv = out.get_samples(0, n)
in_uv = inp.get_samples(0, n)
events = recording.events
neo_out, neo_in = OpenEphysBinaryRawIO(dirname=output_root), OpenEphysBinaryRawIO(dirname=input_recording)
neo_out.parse_header()
neo_in.parse_header()
neo_n = neo_out.get_signal_size(0, 0, 0)

print(json.dumps({
    "neo_samples": int(neo_n),
    "neo_equal": bool(np.array_equal(neo_out.get_analogsignal_chunk(0, 0, 0, neo_n, 0),
                                     neo_in.get_analogsignal_chunk(0, 0, 0, neo_n, 0))),
    "neo_event_channels": sorted(str(c["name"]) for c in neo_out.header["event_channels"]),
    "samples": int(n),
    "channels": int(out.samples.shape[1]),
    "max_abs_difference_uv": float(np.max(np.abs(out_uv - in_uv))),
    "sample_numbers_equal": bool(np.array_equal(out.sample_numbers, inp.sample_numbers[:n])),
    "events": [
        {"line": int(r.line), "state": int(r.state), "sample_number": int(r.sample_number),
         "processor_id": int(r.processor_id)}
        for r in events.itertuples()
    ],
    "spike_channels": [
        {"name": s.metadata.name, "count": int(len(s.sample_numbers)),
         "sample_numbers": [int(x) for x in s.sample_numbers],
         "waveform_shape": list(s.waveforms.shape)}
        for s in recording.spikes
    ],
}))
