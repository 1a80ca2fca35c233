"""Ranked choice (instant runoff): the option with fewest votes goes until one has a majority.

Ballots sit in the pile of their top choice still in the race; when an option is eliminated only
its pile moves on, so a round costs the ballots that move rather than the whole electorate. A
tie for fewest is broken by earlier rounds, latest first; failing that, the tied option listed
last in the options is eliminated.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from orkestra_tui.engine.voting.consensus.electorate import Electorate
from orkestra_tui.engine.voting.consensus.results import TallyResult, decided, round_counts, undecided
from orkestra_tui.engine.voting.consensus.wording import join_names, names_of


def ranked_choice(electorate: Electorate, threshold: Fraction) -> TallyResult:
    """Instant runoff; only the eliminated option's ballots move from one round to the next."""
    option_count = len(electorate.options)
    in_race = [True] * option_count
    votes = [0] * option_count
    # Each option's pile holds (ranking, voters, position of the option in that ranking).
    piles: list[list[tuple[tuple[int, ...], int, int]]] = [[] for _ in range(option_count)]
    for ranking, count in electorate.rankings.items():
        piles[ranking[0]].append((ranking, count, 0))
        votes[ranking[0]] += count
    history: list[list[int]] = []
    rounds: list[dict[str, Any]] = []
    eliminated: list[int] = []
    exhausted = 0
    while True:
        round_number = len(history) + 1
        racing = [index for index in range(option_count) if in_race[index]]
        counting = electorate.cast - exhausted
        record: dict[str, Any] = {
            "round": round_number,
            "counts": round_counts(electorate, votes, racing),
            "eliminated": None,
            "exhausted": exhausted,
            "tie_break": None,
        }
        rounds.append(record)
        after = ""
        if eliminated:
            gone = join_names([electorate.options[index] for index in eliminated])
            after = f" after {gone} {'was' if len(eliminated) == 1 else 'were'} eliminated"
        still = f" still counting ({exhausted} exhausted)" if exhausted else ""
        # With abstentions, say the count is of the cast ballots (the tally adds how many abstained).
        noun = "ballots"
        if electorate.cast != electorate.total:
            noun = "cast ballot" if counting == 1 else "cast ballots"
        leader = max(racing, key=lambda index: votes[index])
        if counting and 2 * votes[leader] > counting:
            reason = (
                f"{electorate.options[leader]} won on count {round_number} of the runoff with "
                f"{votes[leader]} of {counting} {noun}{still}{after}"
            )
            support = Fraction(votes[leader], counting)
            return decided(
                "ranked_choice",
                electorate,
                winner=leader,
                rounds=rounds,
                support=support,
                reason=reason,
            )
        if len(racing) <= 2 or counting == 0:
            # Two options with equal votes (or nothing left to count): no winner.
            reason = (
                f"{names_of(electorate.options, racing)} tied on count {round_number} of the runoff with "
                f"{votes[leader]} each of {counting} {noun}{still}{after}; no winner"
            )
            return undecided("ranked_choice", electorate, rounds=rounds, reason=reason, tied=racing)
        loser, record["tie_break"] = _runoff_loser(electorate, racing, votes, history)
        record["eliminated"] = electorate.options[loser]
        eliminated.append(loser)
        history.append(list(votes))
        in_race[loser] = False
        for ranking, count, loser_position in piles[loser]:
            # The ballot moves to its next choice still in the race, or is exhausted.
            position = loser_position + 1
            while position < len(ranking) and not in_race[ranking[position]]:
                position += 1
            if position == len(ranking):
                exhausted += count
            else:
                piles[ranking[position]].append((ranking, count, position))
                votes[ranking[position]] += count
        piles[loser] = []
        votes[loser] = 0


def _runoff_loser(
    electorate: Electorate, racing: list[int], votes: list[int], history: list[list[int]]
) -> tuple[int, str | None]:
    """The option to eliminate, and a sentence on how a tie for fewest was broken, if any."""
    fewest = min(votes[index] for index in racing)
    tied = [index for index in racing if votes[index] == fewest]
    if len(tied) == 1:
        return tied[0], None
    opening = f"{names_of(electorate.options, tied)} tied for fewest votes ({fewest})"
    remaining = tied
    # Earlier rounds break the tie, latest round first.
    for round_index in range(len(history) - 1, -1, -1):
        earlier = history[round_index]
        earlier_fewest = min(earlier[index] for index in remaining)
        remaining = [index for index in remaining if earlier[index] == earlier_fewest]
        if len(remaining) == 1:
            loser = remaining[0]
            return loser, (
                f"{opening}; {electorate.options[loser]} is eliminated for having fewer "
                f"on count {round_index + 1}"
            )
    loser = max(remaining)
    return loser, (
        f"{opening}; {electorate.options[loser]} is eliminated as it is listed last of them in the options"
    )
