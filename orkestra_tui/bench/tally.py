"""`orkestra bench --scenario tally`: ranked choice and Condorcet over a large electorate.

The electorate is seeded, so every run counts the same ballots: voters come from a few blocs
that each share an order of preference, with noise (swapped neighbours) and rankings cut short
at varying lengths, so no option has a first-round majority and the runoff needs several rounds.
The ballots are handed to `tally` one by one, as the committee would, never pre-aggregated.
The baseline is the same run's cost of only validating and aggregating those ballots: the floor
that any method pays before it counts anything.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from orkestra_tui.engine.consensus import RankedBallot, tally
from orkestra_tui.engine.consensus.electorate import normalise_ballots

BALLOTS = 100_000
QUICK_BALLOTS = 10_000


def describe(*, quick: bool = False) -> str:
    """The scenario's title, naming the workload it measures."""
    ballots = QUICK_BALLOTS if quick else BALLOTS
    return f"ranked_choice and condorcet over {ballots:,} ballots, 10 options vs validation alone"


DESCRIPTION = describe()

OPTIONS: tuple[str, ...] = (
    "Memphis",
    "Nashville",
    "Knoxville",
    "Chattanooga",
    "Clarksville",
    "Murfreesboro",
    "Franklin",
    "Jackson",
    "Johnson City",
    "Bartlett",
)
# (share of voters, the bloc's order of preference as indexes into OPTIONS)
BLOCS: tuple[tuple[float, tuple[int, ...]], ...] = (
    (0.27, (0, 7, 9, 1, 5, 6, 4, 3, 2, 8)),
    (0.24, (1, 6, 5, 4, 3, 2, 0, 9, 7, 8)),
    (0.19, (2, 8, 3, 1, 6, 5, 4, 0, 9, 7)),
    (0.16, (3, 2, 1, 5, 6, 4, 8, 0, 7, 9)),
    (0.14, (4, 1, 5, 6, 3, 0, 9, 2, 7, 8)),
)
# How many options a voter ranks, and how likely each length is.
RANKING_LENGTHS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
LENGTH_WEIGHTS = (6, 10, 16, 18, 15, 11, 8, 6, 4, 6)
ABSTENTION_RATE = 0.02
SEED = 20240611
REPEATS = 3


def run(*, quick: bool = False) -> dict[str, float | int]:
    """Measure both methods on the generated electorate; best of three runs each, in ms."""
    ballots = make_ballots(QUICK_BALLOTS if quick else BALLOTS)
    ranked_choice = tally("ranked_choice", OPTIONS, ballots)
    distinct_rankings = len({ballot.ranking for ballot in ballots})
    return {
        "ballots": len(ballots),
        "options": len(OPTIONS),
        "distinct_rankings": distinct_rankings,
        "ranked_choice_rounds": len(ranked_choice.rounds),
        "baseline_ms": _best_ms(lambda: normalise_ballots(OPTIONS, ballots, with_weights=False)),
        "ranked_choice_ms": _best_ms(lambda: tally("ranked_choice", OPTIONS, ballots)),
        "condorcet_ms": _best_ms(lambda: tally("condorcet", OPTIONS, ballots)),
    }


def make_ballots(voter_count: int, *, seed: int = SEED) -> list[RankedBallot]:
    """`voter_count` single ballots drawn from the blocs, the same for the same seed."""
    generator = random.Random(seed)
    bloc_orders = [order for _, order in BLOCS]
    bloc_shares = [share for share, _ in BLOCS]
    ballots: list[RankedBallot] = []
    for number in range(voter_count):
        voter = f"voter-{number:06d}"
        if generator.random() < ABSTENTION_RATE:
            ballots.append(RankedBallot(voter, ()))
            continue
        order = list(generator.choices(bloc_orders, bloc_shares)[0])
        # Noise: a few swaps of neighbours, more likely near the top where voters hesitate.
        for _ in range(generator.randint(0, 4)):
            position = min(int(generator.expovariate(0.3)), len(order) - 2)
            order[position], order[position + 1] = order[position + 1], order[position]
        length = generator.choices(RANKING_LENGTHS, LENGTH_WEIGHTS)[0]
        ranking = tuple(OPTIONS[index] for index in order[:length])
        ballots.append(RankedBallot(voter, ranking))
    return ballots


def _best_ms(action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)
