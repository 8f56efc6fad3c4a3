"""What one benchmark run is asked to do, and the scenarios it knows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Scenario = Literal["hot", "uncontended", "store-limit"]
SCENARIOS: tuple[Scenario, ...] = ("hot", "uncontended", "store-limit")

#: Mutate requests per second the lake server allows in `store-limit` (Sanity: about 25/IP).
STORE_MUTATION_LIMIT = 25.0

#: Buyers in flight at once unless told otherwise. The benchmark's own HTTP client shares
#: the machine with the servers; with every buyer sent at once on 2 cores, the first half
#: second goes to opening hundreds of connections and parsing the burst, not to stocksync.
DEFAULT_IN_FLIGHT = 100

#: Where charts (and JSON, when asked) go by default; gitignored.
DEFAULT_OUT_DIR = Path(__file__).resolve().parent.parent / "out"


@dataclass(frozen=True)
class FlashSaleOptions:
    """One run: `coalesce` is one setting, or "both" for off then on with their ratio."""

    scenario: Scenario = "hot"
    processes: int = 4
    buyers: int = 400
    #: Units of each product (`uncontended`: of each of the `buyers` products).
    stock: int = 100
    latency_ms: float = 20.0
    coalesce: Literal["on", "off", "both"] = "on"
    warm_cache: bool = True
    #: Buyers in flight at once (default `DEFAULT_IN_FLIGHT`; at most `buyers`).
    concurrency: int | None = None
    #: Share of the winners who abandon their checkout (released) instead of paying.
    abandon: float = 0.0
    json_path: Path | None = None
    chart: bool = True
    out_dir: Path = DEFAULT_OUT_DIR
    #: Profile each service process (cProfile); one `.prof` file per process lands here.
    profile_dir: Path | None = None
    #: Upper bound, in seconds, of each phase (seeding, buying, paying).
    phase_timeout: float = 90.0

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}")
        if not 1 <= self.processes <= 16:
            raise ValueError("processes must be between 1 and 16")
        if not 1 <= self.buyers <= 5000:
            raise ValueError("buyers must be between 1 and 5000")
        if not 0 <= self.stock <= 100_000:
            raise ValueError("stock must be between 0 and 100000")
        if not 0 <= self.latency_ms <= 1000:
            raise ValueError("latency-ms must be between 0 and 1000")
        if self.concurrency is not None and self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not 0 <= self.abandon <= 1:
            raise ValueError("abandon must be between 0 and 1")
        if self.phase_timeout <= 0:
            raise ValueError("phase timeout must be positive")

    @property
    def in_flight(self) -> int:
        return min(self.concurrency or DEFAULT_IN_FLIGHT, self.buyers)

    @property
    def mutation_limit(self) -> float | None:
        return STORE_MUTATION_LIMIT if self.scenario == "store-limit" else None

    @property
    def product_count(self) -> int:
        return self.buyers if self.scenario == "uncontended" else 1
