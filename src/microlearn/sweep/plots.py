"""The sweep's plots (matplotlib, Agg; imported only when plots are written): cost vs n, accuracy vs
memory, and the Pareto front of accuracy vs cost vs SRAM per board."""
from __future__ import annotations

from pathlib import Path

from .pareto import cost_of, front, group_of


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _n(row):
    return row.get("n_train") if row.get("n_train") is not None else row.get("n_rows")


def _label(row, skip=("target", "key", "kind")) -> str:
    """The configuration of a row without its target and size: one line per such group."""
    keys = ("dataset", "scenario", "kernel", "solver", "storage_used" if "storage_used" in row else "storage",
            "budget", "capacity")
    return " ".join(str(row[k]) for k in keys if k not in skip and row.get(k) not in (None, "n", "all"))


def _targets(table):
    return sorted({r.get("target") or "python" for r in table})


def cost_vs_n(table, path) -> Path | None:
    pts = [r for r in table if _n(r) is not None and cost_of(r)[0] is not None]
    if not pts:
        return None
    plt = _pyplot()
    targets = _targets(pts)
    fig, axes = plt.subplots(1, len(targets), figsize=(5 * len(targets), 3.8), squeeze=False)
    for ax, t in zip(axes[0], targets):
        groups: dict[str, list] = {}
        for r in pts:
            if (r.get("target") or "python") == t:
                groups.setdefault(_label(r), []).append(r)
        unit = None
        for name, rs in sorted(groups.items()):
            rs.sort(key=_n)
            unit = cost_of(rs[0])[1]
            ax.plot([_n(r) for r in rs], [cost_of(r)[0] for r in rs], "-o", ms=3, label=name or t)
        ax.set_yscale("log")
        ax.set_title(t)
        ax.set_xlabel("n (training rows or stream rows)")
        ax.set_ylabel(unit)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def accuracy_vs_memory(table, path) -> Path | None:
    pts = [r for r in table if r.get("accuracy") is not None and
           (r.get("sram_bytes") is not None or r.get("buffer_bytes") is not None)]
    if not pts:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for t in _targets(pts):
        rs = [r for r in pts if (r.get("target") or "python") == t]
        mem = [r["sram_bytes"] if r.get("sram_bytes") is not None else r["buffer_bytes"] for r in rs]
        ax.scatter(mem, [r["accuracy"] for r in rs], s=14, label=t)
    ax.set_xscale("log")
    ax.set_xlabel("SRAM bytes (static + stack peak; host: the trainer's buffers)")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def pareto(table, path) -> Path | None:
    fronts = front(table)
    if not fronts:
        return None
    plt = _pyplot()
    targets = sorted(fronts)
    ncol = min(len(targets), 4)
    nrow = -(-len(targets) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5 * ncol, 4 * nrow), squeeze=False)
    for ax in axes.flat[len(targets):]:
        ax.set_visible(False)
    for ax, t in zip(axes.flat, targets):
        rs = [r for r in table if group_of(r) == t and cost_of(r)[0] is not None
              and r.get("sram_bytes") is not None and r.get("accuracy") is not None]
        sc = ax.scatter([cost_of(r)[0] for r in rs], [r["sram_bytes"] for r in rs],
                        c=[r["accuracy"] for r in rs], cmap="viridis", vmin=0, vmax=1, s=16)
        fr = fronts[t]
        ax.scatter([cost_of(r)[0] for r in fr], [r["sram_bytes"] for r in fr], facecolors="none",
                   edgecolors="r", s=70, label="Pareto front")
        ax.set_xscale("log")
        ax.set_xlabel(cost_of(fr[0])[1])
        ax.set_ylabel("SRAM bytes")
        ax.set_title(t)
        ax.legend(fontsize=7)
        fig.colorbar(sc, ax=ax, label="accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def write_all(table, folder) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    made = [cost_vs_n(table, folder / "cost_vs_n.png"), accuracy_vs_memory(table, folder / "accuracy_vs_memory.png"),
            pareto(table, folder / "pareto.png")]
    return [p for p in made if p is not None]
