"""A lab-style closed-loop processor: a helper module beside it, a config at an absolute
lab path, a log in /tmp from import on, a TCP hub and a UDP stimulator at fixed lab
addresses, a heartbeat to the hub every 0.25 s from a threading.Timer, results written at
an absolute path when the acquisition stops."""
import os
import socket
import threading

import numpy as np
import oe_pyprocessor
from lab_utils import load_config

GAIN, THRESHOLD = load_config("/mnt/lab/config/settings.py")
HUB = ("hub.lab", 5555)
STIMULATOR = ("stim.lab", 6000)
LOG = open("/tmp/closed_loop.log", "w")
LOG.write("imported\n")


class PyProcessor:
    def __init__(self, processor, num_channels, sample_rate):
        self.processor = processor
        self.crossings = 0
        self.samples = 0
        self.hub = None
        self.stim = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def start_acquisition(self):
        self.hub = socket.create_connection(HUB, timeout=2)
        self.hub.sendall(b"acquisition start\n")
        self.heartbeat()

    def heartbeat(self):
        if self.samples:
            self.hub.sendall(f"heartbeat {self.samples}\n".encode())
        self.timer = threading.Timer(0.25, self.heartbeat)
        self.timer.start()

    def process(self, data):
        data *= GAIN
        below = data[0] < THRESHOLD
        crossings = int(np.count_nonzero(below[1:] & ~below[:-1]))
        if crossings:
            self.stim.sendto(b"pulse", STIMULATOR)
        self.crossings += crossings
        self.samples += data.shape[1]

    def stop_acquisition(self):
        self.timer.cancel()
        self.hub.sendall(f"acquisition stop {self.crossings}\n".encode())
        self.hub.close()
        LOG.close()
        os.makedirs("/mnt/lab/results", exist_ok=True)
        with open("/mnt/lab/results/summary.txt", "w") as out:
            out.write(f"samples={self.samples} crossings={self.crossings} log={open('/tmp/closed_loop.log').read()!r}\n")
