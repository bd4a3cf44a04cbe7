"""HVAC comfort control (Edge2Train, section 3.3): a simulated room and occupant.

The controller's classifier predicts the occupant's comfort vote from what the
device measures; the occupant's votes are the feedback labels, and the occupant's
preference drifts (a season change: lighter clothes, a warmer preferred
temperature; later a new occupant with another set point and a narrower band).

Room (one step = `dt_min` minutes, default 30):
  outdoor  T_out(t) = season mean + daily swing * sin(2 pi (hour - 9) / 24) + weather noise
           (the season mean moves from winter to summer over `season_days`, compressed time)
  indoor   first-order thermal model: dT_in/dt = (T_out - T_in) / tau + P * u, u in
           {0 off, +1 heat, -1 cool}, tau = `tau_h` hours, P = `hvac_c_per_h` degC per hour
  humidity relaxes towards a season-dependent outdoor level; cooling dries the air
Occupant: effective temperature T_eff = T_in + 0.05 * (RH - 50) (humid air feels
  warmer); vote 0 = too cold if T_eff < pref - band, 2 = too hot if T_eff > pref + band,
  else 1 = ok; a small fraction of votes is random (people are noisy).

Features (float32, 4, the default store layout): [T_in degC, RH %, T_out degC, hour/24].

Open loop: `comfort_stream()` wanders the indoor temperature (a hidden thermostat
with random set points) so that all three votes occur, and returns (X, y,
drift_points) like microlearn.data.streams. Closed loop: `HVACEnv` with
`observe()` and `step(action)`: the controller picks an action from its
prediction, the env answers with the new state and, sometimes, a vote.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from microlearn.data.streams import Stream

COLD, OK, HOT = 0, 1, 2
OFF, HEAT, COOL = 0, 1, 2
FEATURES = ("t_in", "rh", "t_out", "hour")


@dataclass
class Occupant:
    pref: float = 21.5     # preferred effective temperature, degC
    band: float = 1.0      # +- tolerance before voting cold/hot
    noise: float = 0.03    # probability of a random vote

    def comfort(self, t_in: float, rh: float) -> int:
        t_eff = t_in + 0.05 * (rh - 50.0)
        if t_eff < self.pref - self.band:
            return COLD
        if t_eff > self.pref + self.band:
            return HOT
        return OK


@dataclass
class HVACConfig:
    dt_min: float = 30.0
    tau_h: float = 12.0            # thermal time constant of the room
    hvac_c_per_h: float = 3.0      # heating/cooling power, degC per hour
    winter_mean: float = 6.0
    summer_mean: float = 26.0
    daily_swing: float = 5.0
    season_days: float = 2.0       # winter -> summer transition length (compressed seasons)
    season_change_day: float = 4.0
    new_occupant_day: float = 8.5
    winter: Occupant = field(default_factory=lambda: Occupant(pref=21.0, band=1.0))
    summer: Occupant = field(default_factory=lambda: Occupant(pref=24.5, band=1.0))
    newcomer: Occupant = field(default_factory=lambda: Occupant(pref=22.5, band=0.7))
    vote_prob: float = 1.0         # chance the occupant votes at a step (closed loop)


class HVACEnv:
    """The room + occupant, stepped by the controller's action (OFF, HEAT, COOL)."""

    def __init__(self, config: HVACConfig | None = None, seed: int = 0, t_in0: float = 19.0):
        self.cfg = config or HVACConfig()
        self.rng = np.random.default_rng(seed)
        self.step_index = 0
        self.t_in = float(t_in0)
        self.rh = 45.0
        self._weather = 0.0
        self.t_out = self._outdoor()

    # --- time and drift
    @property
    def day(self) -> float:
        return self.step_index * self.cfg.dt_min / (24 * 60)

    @property
    def hour(self) -> float:
        return (self.day % 1.0) * 24.0

    def season(self) -> float:
        """0 = winter, 1 = summer, linear in between."""
        c = self.cfg
        return float(np.clip((self.day - c.season_change_day) / c.season_days, 0.0, 1.0))

    def occupant(self) -> Occupant:
        c = self.cfg
        if self.day >= c.new_occupant_day:
            return c.newcomer
        return c.summer if self.season() >= 0.5 else c.winter

    def concept(self) -> int:
        """0 winter occupant, 1 summer occupant, 2 new occupant."""
        if self.day >= self.cfg.new_occupant_day:
            return 2
        return 1 if self.season() >= 0.5 else 0

    def _outdoor(self) -> float:
        c = self.cfg
        s = self.season()
        mean = (1 - s) * c.winter_mean + s * c.summer_mean
        self._weather = 0.95 * self._weather + self.rng.normal(0.0, 0.4)
        return float(mean + c.daily_swing * np.sin(2 * np.pi * (self.hour - 9.0) / 24.0) + self._weather)

    # --- interface
    def observe(self) -> np.ndarray:
        return np.array([self.t_in, self.rh, self.t_out, self.hour / 24.0], dtype=np.float32)

    def true_comfort(self) -> int:
        return self.occupant().comfort(self.t_in, self.rh)

    def vote(self) -> int:
        occ = self.occupant()
        if self.rng.random() < occ.noise:
            return int(self.rng.integers(0, 3))
        return self.true_comfort()

    def step(self, action: int) -> tuple[np.ndarray, int | None, dict]:
        """Apply `action` for one step. Returns (features, vote or None, info)."""
        if action not in (OFF, HEAT, COOL):
            raise ValueError("action must be OFF (0), HEAT (1) or COOL (2)")
        c = self.cfg
        dt_h = c.dt_min / 60.0
        u = {OFF: 0.0, HEAT: 1.0, COOL: -1.0}[action]
        self.t_in += dt_h * ((self.t_out - self.t_in) / c.tau_h + c.hvac_c_per_h * u)
        rh_out = 40.0 + 25.0 * self.season()
        self.rh += dt_h * (rh_out - self.rh) / 4.0 - (3.0 * dt_h if action == COOL else 0.0)
        self.rh = float(np.clip(self.rh + self.rng.normal(0.0, 0.5), 20.0, 90.0))
        self.step_index += 1
        self.t_out = self._outdoor()
        vote = self.vote() if self.rng.random() < c.vote_prob else None
        info = {"comfort": self.true_comfort(), "day": self.day, "concept": self.concept(),
                "t_eff": self.t_in + 0.05 * (self.rh - 50.0)}
        return self.observe(), vote, info


def action_for(comfort: int) -> int:
    """The controller's policy from a (predicted) comfort vote: cold -> heat, hot -> cool."""
    return {COLD: HEAT, OK: OFF, HOT: COOL}[int(comfort)]


def comfort_stream(n: int = 600, seed: int = 0, config: HVACConfig | None = None,
                   noisy_votes: bool = False) -> Stream:
    """Open-loop stream of (features, comfort label) with the occupant drifts.

    A hidden thermostat with a random set point (new one every 2-8 h, uniform 16-29 degC)
    drives the room, so cold, ok and hot states all occur. Labels are the true comfort
    (or the occupant's noisy votes if `noisy_votes`). drift_points: the first samples
    of the summer occupant (season change) and of the new occupant."""
    cfg = config or HVACConfig()
    steps_per_day = 24 * 60 / cfg.dt_min
    if n <= cfg.new_occupant_day * steps_per_day:
        raise ValueError(f"n={n} ends before the new occupant arrives (day {cfg.new_occupant_day})")
    env = HVACEnv(cfg, seed=seed)
    rng = np.random.default_rng([seed, 7])
    X = np.empty((n, 4), dtype=np.float32)
    y = np.empty(n, dtype=np.int64)
    concept = np.empty(n, dtype=np.int64)
    set_point, hold = 21.0, 0
    for i in range(n):
        X[i] = env.observe()
        y[i] = env.vote() if noisy_votes else env.true_comfort()
        concept[i] = env.concept()
        if hold <= 0:
            set_point, hold = float(rng.uniform(16.0, 29.0)), int(rng.integers(4, 17))
        hold -= 1
        action = HEAT if env.t_in < set_point - 0.3 else COOL if env.t_in > set_point + 0.3 else OFF
        env.step(action)
    drift_points = [int(np.argmax(concept == c)) for c in (1, 2) if np.any(concept == c)]
    return Stream(X, y, drift_points, {
        "name": "hvac_comfort", "kind": "abrupt", "n_classes": 3, "features": FEATURES, "concept": concept,
        "classes": ("too cold", "ok", "too hot")})


def run_closed_loop(predict, n: int = 600, seed: int = 0, config: HVACConfig | None = None, learn=None,
                    env: HVACEnv | None = None) -> dict:
    """Drive the room with a controller: `predict(features) -> comfort class`, the action
    follows action_for(); each vote is passed to `learn(features, vote)` if given.
    Returns comfort statistics (fraction of steps the occupant was comfortable) and the energy spent, as the
    number of steps the heating or the cooling ran (each runs at the same power, hvac_c_per_h)."""
    env = env or HVACEnv(config, seed=seed)
    ok = active = 0
    x = env.observe()
    for _ in range(n):
        action = action_for(predict(x))
        active += action != OFF
        x, vote, info = env.step(action)
        ok += info["comfort"] == OK
        if learn is not None and vote is not None:
            learn(x, vote)
    return {"comfort_ok": ok / n, "steps": n, "hvac_steps": active}
