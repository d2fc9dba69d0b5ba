"""Sends random frames through the door by hand, as a hostile script could, and counts
what happened. A block whose first value is 1.0 is a round of fuzzing (its second value
seeds it, its third says how many frames); 2.0 prints the counts; any other block is
processed normally (doubled, one TTL event), to show the processor still works."""

import random
import struct

import _host
import numpy as np
import _pyproc_wire as wire

KNOWN = [value for name, value in vars(wire).items()
         if name.isupper() and isinstance(value, int) and name in {
             "LOAD", "SET_STREAM", "RESERVE", "PROCESS", "TTL", "SPIKE", "CALL", "START_RECORDING",
             "QUIT", "EVENTS", "HELLO", "DONE", "BUFFER", "FAILED", "LOG", "STAGE", "HANDLES",
             "NET_OPEN", "NET_CONNECT", "NET_BIND", "NET_LISTEN", "NET_ACCEPT", "NET_SEND",
             "NET_RECV", "NET_CLOSE", "NET_SHUTDOWN", "NET_SELECT", "NET_RESOLVE", "NET_INFO",
             "ACCESS"}]
# Where each network frame with a timeout keeps it (after the opcode): forced to 0 ("never
# wait"), so a round does not spend the deadline waiting on a socket.
TIMEOUT_AT = {wire.NET_CONNECT: 4, wire.NET_ACCEPT: 4, wire.NET_SEND: 4, wire.NET_RECV: 4, wire.NET_SELECT: 0}
# Frames that answer a command. DONE and FAILED are sent malformed (a well-formed one would
# end the round, as the script's own answer); HELLO and BUFFER answer no command of a block,
# so the host must refuse them however well formed.
ANSWERS = {wire.DONE, wire.FAILED, wire.BUFFER, wire.HELLO}
HUGE = [0, 1, 2**31 - 1, 2**31, 2**32 - 1, 2**32 - 4, 0xFFFFFF00, 0x7FFFFFFF]


def u32(rng):
    return rng.choice(HUGE) if rng.random() < 0.5 else rng.getrandbits(32)


def frame(rng):
    op = rng.choice(KNOWN) if rng.random() < 0.85 else rng.choice([0, 0x7F, 0x80, 0x95, 0xFF, rng.getrandbits(8)])
    shape = rng.random()
    if shape < 0.15:
        body = b""                                            # opcode alone
    elif shape < 0.3:
        body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 8)))  # a short header
    elif shape < 0.6:
        # Length and count fields claiming more than the frame holds, and addresses past memory.
        fields = [struct.pack("<I", u32(rng)) for _ in range(rng.randrange(1, 6))]
        body = b"".join(fields) + bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 24)))
    else:
        body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 200)))
    if op in TIMEOUT_AT:
        at = TIMEOUT_AT[op]
        if len(body) >= at + 8:
            body = body[:at] + bytes(8) + body[at + 8:]
    if op == wire.DONE and len(body) >= 4:
        # A count of events that cannot all be there: never a well-formed answer.
        body = struct.pack("<I", 0xFFFFFFF0) + body[4:]
    if op == wire.FAILED and len(body) >= 1:
        body = bytes([0xEE]) + body[1:]                       # no such callback
    if op == wire.STAGE and len(body) == 1 and body[0] in range(1, 10):
        body = b""                                            # keep the stage honest
    return bytes([op]) + body


# Memory of the script's own: addresses inside the guest, for frames that would move the
# host's view of it (a command area, a block buffer) if the host took them.
OWN = np.zeros(4096, np.uint8)
OWN_AT = OWN.__array_interface__["data"][0]


def place(rng):
    """An address and a length: inside the script's own memory, or anywhere."""
    if rng.random() < 0.5:
        return OWN_AT + rng.randrange(0, 64), rng.choice([0, 1, 8, 64, len(OWN) - 64])
    return u32(rng), u32(rng)


def addressed(rng):
    """Frames that carry guest addresses."""
    (addr, cap), (scratch, scratch_len) = place(rng), place(rng)
    choice = rng.randrange(3)
    if choice == 0:
        return struct.pack("<BII", wire.BUFFER, addr, cap // 4)
    if choice == 1:
        return struct.pack("<BIIII", wire.HELLO, addr, cap, scratch, scratch_len)
    return struct.pack("<BIdBII", wire.NET_RECV, rng.getrandbits(32), 0.0, 0, addr, cap)


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        self.refused = 0
        self.answered = 0
        self.other = 0
        self.sent = 0
        self.answers_taken = 0  # HELLO, BUFFER, DONE, FAILED the host took as an answer

    def process(self, data):
        if data[0, 0] == 2.0:
            # In a block of its own: a round's output is mostly the host's notes, past the cap.
            print(f"sent {self.sent} refused {self.refused} answered {self.answered} other {self.other} answers taken {self.answers_taken}")
            return
        if data[0, 0] != 1.0:
            data *= 2
            self.processor.add_python_event(3, True)
            return
        rng = random.Random(int(data[0, 1]))
        for i in range(int(data[0, 2])):
            request = addressed(rng) if i % 7 == 0 else frame(rng)
            self.sent += 1
            try:
                _host.call(request)
                self.answered += 1
                if request[0] in ANSWERS:
                    self.answers_taken += 1
            except OSError as exc:
                if "host door returned 1" in str(exc):
                    self.refused += 1
                else:
                    self.other += 1
            except Exception:
                self.other += 1
