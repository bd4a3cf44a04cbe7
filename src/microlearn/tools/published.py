"""Figures PUBLISHED by the seeds, entered by hand as data with their source. Nothing here is
measured by microlearn; the benchmark prints these next to its own measurements, never mixed.

Edge2Train: B. Sudharsan, J. G. Breslin, M. I. Ali, "Edge2Train: a framework to train machine
learning models (SVMs) on resource-constrained IoT edge devices", IoT 2020, Fig. 3 (training time
of the full training set, first 70% of the rows; C=1, linear kernel, simplified SMO).
EloquentArduino blog: "SVM on Arduino: train on the microcontroller" (eloquentarduino.com),
training time and accuracy with 60 training samples.

Energies (`energy_j`, per training): Edge2Train's Fig. 5.a and Train++'s training-energy chart, as drawn in
the authors' repositories (bharathsudharsan/Edge2Train @ 8ffcc58, Train_and_infer_energy_on_mcus_and_cpus.png;
bharathsudharsan/Train_plus_plus @ 17ec74a, energy_comparison_for_train_and_infer.png). Both READMEs say the
energy is a current rating x voltage x task time; every one of Edge2Train's MCU energies divided by its time
is 0.175 W (our arithmetic): one power for all boards, so the times carry the information, not the energies.
Train++ trains one pass of Passive-Aggressive, not an SVM to convergence. Their "ESP32" is the generic ESP32
board (Edge2Train's MCU3, Train++'s MCU4).
"""
from __future__ import annotations

EDGE2TRAIN = "Edge2Train (Sudharsan et al., IoT 2020), Fig. 3 (time) and 5.a (energy)"
BLOG = "EloquentArduino blog, on-device SVM training"
TRAINPP = "Train++ (Sudharsan et al. 2021), repository chart and README"

# board: our board name when the seed's board is one we emulate, else the seed's name.
PUBLISHED = [
    {"source": EDGE2TRAIN, "board": "nrf52840", "dataset": "iris", "n_train": "70%", "seconds": 33.5, "energy_j": 5.864},
    {"source": EDGE2TRAIN, "board": "nrf52840", "dataset": "digits6", "n_train": "70%", "seconds": 45.7, "energy_j": 8.005},
    {"source": EDGE2TRAIN, "board": "bluepill", "dataset": "iris", "n_train": "70%", "seconds": 226.0, "energy_j": 39.583},
    {"source": EDGE2TRAIN, "board": "bluepill", "dataset": "digits6", "n_train": "70%", "seconds": None,
     "note": "memory overflow"},
    {"source": EDGE2TRAIN, "board": "esp32", "dataset": "iris", "n_train": "70%", "seconds": 10.2, "energy_j": 1.782},
    {"source": EDGE2TRAIN, "board": "esp32", "dataset": "digits6", "n_train": "70%", "seconds": 25.3, "energy_j": 4.432},
    {"source": EDGE2TRAIN, "board": "samd21", "dataset": "iris", "n_train": "70%", "seconds": 786.0, "energy_j": 137.481},
    {"source": EDGE2TRAIN, "board": "samd21", "dataset": "digits6", "n_train": "70%", "seconds": None,
     "note": "memory overflow"},
    {"source": BLOG, "board": "esp32", "dataset": "iris", "n_train": 60, "seconds": 0.080, "accuracy": 0.87},
    {"source": BLOG, "board": "esp32", "dataset": "cancer", "n_train": 60, "seconds": 71.4, "accuracy": 0.80},
    {"source": BLOG, "board": "samd21", "dataset": "iris", "n_train": 60, "seconds": 7.0,
     "note": "Seeed Xiao M0 (SAMD21, 48 MHz)"},
    # Train++: Iris, 105 training rows, one pass of Passive-Aggressive (times from the README where it gives them)
    {"source": TRAINPP, "board": "nrf52840", "dataset": "iris", "n_train": 105, "seconds": None, "energy_j": 0.00017,
     "note": "one pass of Passive-Aggressive, not an SVM"},
    {"source": TRAINPP, "board": "bluepill", "dataset": "iris", "n_train": 105, "seconds": 0.004, "energy_j": 0.00069,
     "note": "one pass of Passive-Aggressive, not an SVM"},
    {"source": TRAINPP, "board": "esp32", "dataset": "iris", "n_train": 105, "seconds": None, "energy_j": 0.00016,
     "note": "one pass of Passive-Aggressive, not an SVM"},
    {"source": TRAINPP, "board": "samd21", "dataset": "iris", "n_train": 105, "seconds": 0.012, "energy_j": 0.00209,
     "note": "one pass of Passive-Aggressive, not an SVM"},
]


def published(board=None, dataset=None) -> list[dict]:
    return [r for r in PUBLISHED if (board is None or r["board"] == board)
            and (dataset is None or r["dataset"] == dataset)]
