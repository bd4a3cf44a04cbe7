"""Training cost for every device of a fleet, from the few run on an emulated board.

The confirmed devices (fleet --confirm K) give the exact training cost on the board (simavr cycles, or qemu
instructions: train_cycles / train_instructions, summed over the device's trainings). The reference learner
gives, for every device, what its trainings did: how many (trainings), their rows (train_rows = sum of n),
their SMO iterations (train_iterations) and iterations x rows (train_work: an SMO iteration of the learner's
wss2 selects over and updates all n gradients). The cost is a non-negative combination of those four,
fitted on the confirmed devices (non-negative least squares) and applied to all; its error is measured by
leaving each confirmed device out in turn and predicting it from the others, and is reported beside the
estimate. Fewer confirmed devices than MIN_DEVICES: no estimate (four coefficients need more points)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls      # scipy comes with scikit-learn

FEATURES = ("retrains", "train_rows", "train_iterations", "train_work")
MIN_DEVICES = 6


@dataclass
class CostModel:
    unit: str                      # "cycles" (AVR, exact) or "instructions" (qemu)
    coef: dict[str, float]         # per feature
    devices: int                   # confirmed devices fitted
    loo_median: float              # |relative error| leaving one device out: median and max
    loo_max: float

    @property
    def column(self) -> str:
        return f"train_{self.unit}_est"

    def predict(self, device: dict) -> float | None:
        if device.get("status") != "ok" or any(device.get(f) is None for f in FEATURES):
            return None
        return float(sum(self.coef[f] * float(device[f]) for f in FEATURES))

    def to_dict(self) -> dict:
        return {"unit": self.unit, "column": self.column, "coef": self.coef, "devices": self.devices,
                "loo_median_rel_error": self.loo_median, "loo_max_rel_error": self.loo_max,
                "features": list(FEATURES)}


def _nnls(A, b):
    return nnls(A, b)[0]


def fit(devices: list[dict], confirm: list[dict]) -> CostModel | None:
    """The model from the confirmed devices that ran (and agreed: a device that disagrees did other
    trainings than its reference row says), or None with fewer than MIN_DEVICES of them."""
    by_id = {d["device"]: d for d in devices if d.get("status") == "ok"}
    rows, costs, unit = [], [], None
    for c in confirm:
        ref = by_id.get(c["device"])
        if c.get("status") != "ok" or ref is None or not (c.get("agreement") == 1.0 and c.get("same_events")):
            continue
        u, cost = ("cycles", c.get("train_cycles")) if c.get("train_cycles") is not None \
            else ("instructions", c.get("train_instructions"))
        if cost is None or (unit is not None and u != unit):
            continue
        unit = u
        rows.append([float(ref[f]) for f in FEATURES])
        costs.append(float(cost))
    if len(rows) < MIN_DEVICES:
        return None
    A, b = np.array(rows), np.array(costs)
    errs = []
    for i in range(len(b)):
        keep = np.arange(len(b)) != i
        pred = float(A[i] @ _nnls(A[keep], b[keep]))
        errs.append(abs(pred - b[i]) / b[i] if b[i] else 0.0)
    coef = _nnls(A, b)
    return CostModel(unit, {f: float(v) for f, v in zip(FEATURES, coef)}, len(b), float(np.median(errs)),
                     float(np.max(errs)))
