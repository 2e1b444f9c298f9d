"""Write a deterministic synthetic vault for benchmarks.

`python -m benchmarks.generate_vault OUT --notes 10000 [--cells 0.01] [--seed 1]`
Notes are about 5 KB: frontmatter (title, Unix-float date, tags, aliases), headings,
lists, 5-20 wikilinks whose targets follow a power law (a few hubs, a long tail),
`See also` and `preceding`/`following` lines, inline and display math, code blocks, and
optionally `{python}` cells. The same arguments always give the same bytes.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

WORDS = [
    "synapse",
    "potentiation",
    "depression",
    "calcium",
    "receptor",
    "kinase",
    "phosphatase",
    "spike",
    "timing",
    "plasticity",
    "dendrite",
    "spine",
    "membrane",
    "channel",
    "current",
    "voltage",
    "threshold",
    "learning",
    "memory",
    "network",
    "neuron",
    "cortex",
    "hippocampus",
    "signal",
    "cascade",
    "protein",
    "expression",
    "homeostasis",
    "scaling",
    "window",
    "rate",
    "model",
    "equation",
    "weight",
    "input",
    "output",
    "response",
    "stimulus",
    "induction",
    "maintenance",
    "consolidation",
    "trace",
    "activity",
    "pathway",
    "release",
    "vesicle",
    "transmitter",
]

FOLDERS = ("", "mechanisms/", "molecules/", "systems/", "methods/", "archive/2023/")


def title_of(i: int) -> str:
    return f"Concept {i:05d} {WORDS[i % len(WORDS)]}"


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random, links: list[str]) -> str:
    parts = []
    for _ in range(rng.randint(3, 6)):
        s = _sentence(rng, rng.randint(8, 16))
        if links and rng.random() < 0.6:
            target = links.pop()
            s = s[:-1] + f" as in [[{target}]]."
        if rng.random() < 0.2:
            s += f" The rate $r_{{{rng.randint(1, 9)}}} = \\tau^{{-1}}$ matters."
        parts.append(s)
    return " ".join(parts)


def make_note(i: int, n: int, rng: random.Random, zipf: list[float], cells: bool) -> str:
    k = rng.randint(5, 20)
    targets = [title_of(j) for j in rng.choices(range(n), weights=zipf, k=k) if j != i]
    # A few links to notes that do not exist, as real vaults have.
    if rng.random() < 0.05:
        targets.append(f"Missing idea {rng.randint(0, n // 10)}")
    see_also = targets[:2]
    body_links = targets[2:]
    tags = sorted({rng.choice(WORDS) for _ in range(rng.randint(1, 4))})
    lines = [
        "---",
        f"title: {title_of(i)}",
        f"date: {1600000000 + i * 3600 + rng.random():.6f}",
        "tags:",
        *[f"  - {t}" for t in tags],
        "  - topic/" + rng.choice(WORDS),
    ]
    if i % 7 == 0:
        lines += ["aliases:", f"  - C{i}"]
    lines += ["---", ""]
    for h in range(rng.randint(5, 8)):
        lines += [f"### {_sentence(rng, 3)[:-1]} {h}", "", _paragraph(rng, body_links), ""]
        if rng.random() < 0.5:
            for _ in range(rng.randint(2, 4)):
                lines.append(f"- {_sentence(rng, rng.randint(4, 9))}")
            lines.append("")
        if rng.random() < 0.4:
            lines += ["$$", f"\\frac{{dW}}{{dt}} = \\eta_{h} (W_{{max}} - W)", "$$", ""]
        if rng.random() < 0.3:
            lines += ["```python", f"w = {rng.random():.3f}", "print(w * 2)", "```", ""]
    if cells:
        lines += [
            "```{python}",
            f"#| label: fig-c{i}",
            "import numpy as np",
            "import matplotlib.pyplot as plt",
            f"x = np.linspace(0, 1, {rng.randint(10, 50)})",
            "plt.plot(x, x ** 2)",
            "```",
            "",
        ]
    lines += ["---", ""]
    if i > 0:
        lines.append(f"preceding: [[{title_of(i - 1)}]]  ")
    if i + 1 < n:
        lines.append(f"following: [[{title_of(i + 1)}]]")
    lines.append("")
    for t in see_also:
        lines += [f"See also: [[{t}]]", ""]
    return "\n".join(lines)


def generate(out: Path, n: int, *, seed: int = 1, cell_fraction: float = 0.0) -> list[Path]:
    """Write `n` notes under `out`; return their paths."""
    rng = random.Random(seed)
    zipf = [1.0 / (j + 1) ** 1.1 for j in range(n)]
    paths = []
    for i in range(n):
        folder = FOLDERS[i % len(FOLDERS)]
        path = out / folder / f"{title_of(i)}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = make_note(i, n, rng, zipf, rng.random() < cell_fraction)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cells", type=float, default=0.0, help="fraction of notes with a cell")
    args = parser.parse_args()
    paths = generate(args.out, args.notes, seed=args.seed, cell_fraction=args.cells)
    size = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} notes, {size / len(paths) / 1024:.1f} KB each, to {args.out}")


if __name__ == "__main__":
    main()
