"""Figures PUBLISHED by the seeds, entered by hand as data with their source. Nothing here is
measured by microlearn; the benchmark prints these next to its own measurements, never mixed.

Edge2Train: B. Sudharsan, J. G. Breslin, M. I. Ali, "Edge2Train: a framework to train machine
learning models (SVMs) on resource-constrained IoT edge devices", IoT 2020, Fig. 3 (training time
of the full training set, first 70% of the rows; C=1, linear kernel, simplified SMO).
EloquentArduino blog: "SVM on Arduino: train on the microcontroller" (eloquentarduino.com),
training time and accuracy with 60 training samples.
"""
from __future__ import annotations

EDGE2TRAIN = "Edge2Train (Sudharsan et al., IoT 2020), Fig. 3"
BLOG = "EloquentArduino blog, on-device SVM training"

# board: our board name when the seed's board is one we emulate, else the seed's name.
PUBLISHED = [
    {"source": EDGE2TRAIN, "board": "nrf52840", "dataset": "iris", "n_train": "70%", "seconds": 33.5},
    {"source": EDGE2TRAIN, "board": "nrf52840", "dataset": "digits6", "n_train": "70%", "seconds": 45.7},
    {"source": EDGE2TRAIN, "board": "bluepill", "dataset": "iris", "n_train": "70%", "seconds": 226.0},
    {"source": EDGE2TRAIN, "board": "bluepill", "dataset": "digits6", "n_train": "70%", "seconds": None,
     "note": "memory overflow"},
    {"source": EDGE2TRAIN, "board": "esp32", "dataset": "iris", "n_train": "70%", "seconds": 10.2},
    {"source": EDGE2TRAIN, "board": "esp32", "dataset": "digits6", "n_train": "70%", "seconds": 25.3},
    {"source": EDGE2TRAIN, "board": "samd21", "dataset": "iris", "n_train": "70%", "seconds": 786.0},
    {"source": EDGE2TRAIN, "board": "samd21", "dataset": "digits6", "n_train": "70%", "seconds": None,
     "note": "memory overflow"},
    {"source": BLOG, "board": "esp32", "dataset": "iris", "n_train": 60, "seconds": 0.080, "accuracy": 0.87},
    {"source": BLOG, "board": "esp32", "dataset": "cancer", "n_train": 60, "seconds": 71.4, "accuracy": 0.80},
    {"source": BLOG, "board": "samd21", "dataset": "iris", "n_train": 60, "seconds": 7.0,
     "note": "Seeed Xiao M0 (SAMD21, 48 MHz)"},
]


def published(board=None, dataset=None) -> list[dict]:
    return [r for r in PUBLISHED if (board is None or r["board"] == board)
            and (dataset is None or r["dataset"] == dataset)]
