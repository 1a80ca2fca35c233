"""`orkestra bench --scenario tally`: every method over a large electorate and over a wide one.

The electorates are seeded, so every run counts the same ballots. Voters come from a few blocs
that each share an order of preference, with noise (swapped neighbours) and rankings cut short
at varying lengths, so no option has a first-round majority and the runoff needs several rounds.
The deep electorate is 100,000 ballots over 10 options (ranked choice and Condorcet); the wide
one is 10,000 ballots over 200 options, the most a tally takes, under every method, with some
voters ranking every option and some ranking at random, so that few rankings repeat.
The ballots are handed to `tally` one by one, as the committee would, never pre-aggregated.
Each baseline is the same run's cost of only validating and aggregating those ballots: the floor
that any method pays before it counts anything.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import partial

from orkestra_tui.engine.voting.consensus import METHODS, RankedBallot, tally
from orkestra_tui.engine.voting.consensus.electorate import normalise_ballots

BALLOTS = 100_000
QUICK_BALLOTS = 10_000


WIDE_OPTION_COUNT = 200


def describe(*, quick: bool = False) -> str:
    """The scenario's title, naming the workload it measures."""
    ballots = QUICK_BALLOTS if quick else BALLOTS
    wide_ballots, wide_options = (1_000, 50) if quick else (10_000, WIDE_OPTION_COUNT)
    return (
        f"ranked_choice and condorcet over {ballots:,} ballots and 10 options, every method over"
        f" {wide_ballots:,} ballots and {wide_options} options, each vs validation alone"
    )


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

# The wide electorate: as many options as a tally takes, bloc orders drawn from the seed.
WIDE_BLOC_SHARES = (0.26, 0.22, 0.18, 0.14, 0.12, 0.08)
# Share of length choices (a length of 0 below stands for every option).
WIDE_LENGTHS = (1, 3, 5, 10, 20, 50, 100, 0)
WIDE_LENGTH_WEIGHTS = (8, 14, 18, 20, 14, 10, 6, 10)
# Share of voters who ignore the blocs and rank options in a random order.
WIDE_RANDOM_RATE = 0.1


def run(*, quick: bool = False) -> dict[str, float | int]:
    """Measure the methods on both electorates; best of three runs each, in ms."""
    ballots = make_ballots(QUICK_BALLOTS if quick else BALLOTS)
    ranked_choice = tally("ranked_choice", OPTIONS, ballots)
    distinct_rankings = len({ballot.ranking for ballot in ballots})
    figures: dict[str, float | int] = {
        "ballots": len(ballots),
        "options": len(OPTIONS),
        "distinct_rankings": distinct_rankings,
        "ranked_choice_rounds": len(ranked_choice.rounds),
        "baseline_ms": _best_ms(lambda: normalise_ballots(OPTIONS, ballots, with_weights=False)),
        "ranked_choice_ms": _best_ms(lambda: tally("ranked_choice", OPTIONS, ballots)),
        "condorcet_ms": _best_ms(lambda: tally("condorcet", OPTIONS, ballots)),
    }
    wide_options, wide_ballots = make_wide_ballots(
        1_000 if quick else 10_000, option_count=50 if quick else WIDE_OPTION_COUNT
    )
    figures["wide_ballots"] = len(wide_ballots)
    figures["wide_options"] = len(wide_options)
    figures["wide_distinct_rankings"] = len({ballot.ranking for ballot in wide_ballots})
    figures["wide_baseline_ms"] = _best_ms(
        lambda: normalise_ballots(wide_options, wide_ballots, with_weights=True)
    )
    for method in METHODS:
        figures[f"wide_{method}_ms"] = _best_ms(partial(tally, method, wide_options, wide_ballots))
    return figures


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


def make_wide_ballots(
    voter_count: int, *, option_count: int = WIDE_OPTION_COUNT, seed: int = SEED
) -> tuple[tuple[str, ...], list[RankedBallot]]:
    """Options and `voter_count` single ballots over them, the same for the same seed.

    Bloc voters follow their bloc's order with noise all along it; random voters shuffle every
    option. Ballots carry weights from 0.5 to 2, which only `weighted` reads.
    """
    generator = random.Random(seed)
    options = tuple(f"Option {number:03d}" for number in range(1, option_count + 1))
    bloc_orders = []
    for _ in WIDE_BLOC_SHARES:
        order = list(range(option_count))
        generator.shuffle(order)
        bloc_orders.append(order)
    ballots: list[RankedBallot] = []
    for number in range(voter_count):
        voter = f"voter-{number:06d}"
        if generator.random() < ABSTENTION_RATE:
            ballots.append(RankedBallot(voter, ()))
            continue
        if generator.random() < WIDE_RANDOM_RATE:
            order = list(range(option_count))
            generator.shuffle(order)
        else:
            order = list(generator.choices(bloc_orders, WIDE_BLOC_SHARES)[0])
            for _ in range(generator.randint(0, option_count // 10)):
                position = generator.randrange(option_count - 1)
                order[position], order[position + 1] = order[position + 1], order[position]
        length = generator.choices(WIDE_LENGTHS, WIDE_LENGTH_WEIGHTS)[0] or option_count
        weight = generator.choice((0.5, 1.0, 1.0, 1.5, 2.0))
        ranking = tuple(options[index] for index in order[:length])
        ballots.append(RankedBallot(voter, ranking, weight=weight))
    return options, ballots


def _best_ms(action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)
