"""Head-to-head counts and Schulze's strongest paths, in time that stays low up to the limits.

Head to head, x is above y on a ballot when x's position is smaller, an unranked option sitting
below every ranked one. Counting that pair by pair and ballot by ballot costs options² × ballots
steps; here each option's positions over all the distinct rankings are held as bit planes (one
big integer per bit of the position, one bit per ranking), and a pair is compared on every
ranking at once by a borrow chain over those planes, as a subtraction would. Counts weigh each
ranking by its number of voters through the bits of those numbers. Everything stays an integer.

The strongest paths are Schulze's widest paths, found by adding the winning links strongest first
and noting, for each pair, the link that first joins them: each pair is joined once, so the
work grows with the square of the options rather than the cube.
"""

from __future__ import annotations

from collections.abc import Callable

from orkestra_tui.engine.voting.consensus.electorate import Electorate

# A position fits in a byte; the byte `len(options)` stands for "not ranked".
MAX_POSITIONS = 255
_ZERO, _ONE = ord("0"), ord("1")


def pairwise_counts(electorate: Electorate) -> list[list[int]]:
    """`beats[x][y]`: voters ranking x above y (a ranked option is above every unranked one)."""
    option_count = len(electorate.options)
    beats = [[0] * option_count for _ in range(option_count)]
    # Fewest voters first: see `_weigher`.
    rankings = sorted(electorate.rankings.items(), key=lambda item: item[1])
    if option_count < 2 or not rankings:
        return beats
    if option_count > MAX_POSITIONS:
        raise ValueError(f"head-to-head counts take at most {MAX_POSITIONS} options, not {option_count}")
    planes, unranked = _position_planes(option_count, [ranking for ranking, _ in rankings])
    weigh = _weigher([count for _, count in rankings])
    cast = electorate.cast
    for x in range(option_count):
        x_clear_lowest, *x_clear_higher = [~plane for plane in planes[x]]
        beats_x = beats[x]
        for y in range(x + 1, option_count):
            y_lowest, *y_higher = planes[y]
            # Rankings where x's position is smaller than y's (x above y): the borrow out of
            # x - y, bit by bit.
            borrow = x_clear_lowest & y_lowest
            for x_bit_clear, y_bit in zip(x_clear_higher, y_higher, strict=True):
                borrow = (x_bit_clear & y_bit) | (borrow & (x_bit_clear | y_bit))
            above = weigh(borrow)
            # Positions differ on every ranking but those that rank neither option.
            neither = unranked[x] & unranked[y]
            beats_x[y] = above
            beats[y][x] = cast - above - (weigh(neither) if neither else 0)
    return beats


def strongest_paths(beats: list[list[int]]) -> list[list[int]]:
    """Schulze's widest paths over the links weighted by winning votes; 0 where there is none.

    The strength of the strongest path from x to y is the largest link strength at which y can
    still be reached from x over links at least that strong. Links are added strongest first, and
    a pair gets the strength of the link that first joins it; `reach` and `reached_from` keep the
    closure as bitmasks, so each pair is visited once, when it is joined.
    """
    size = len(beats)
    links = sorted(
        (
            (beats[start][end], start, end)
            for start in range(size)
            for end in range(size)
            if beats[start][end] > beats[end][start]
        ),
        reverse=True,
    )
    paths = [[0] * size for _ in range(size)]
    reach = [0] * size
    reached_from = [0] * size
    for strength, start, end in links:
        # Whoever reaches `start` already reaches all that `start` reaches: only the rest is new.
        targets = (reach[end] | 1 << end) & ~reach[start]
        if not targets:
            continue
        sources = reached_from[start] | 1 << start
        while targets:
            target_bit = targets & -targets
            targets ^= target_bit
            target = target_bit.bit_length() - 1
            joined = sources & ~reached_from[target]
            reached_from[target] |= joined
            while joined:
                source_bit = joined & -joined
                joined ^= source_bit
                source = source_bit.bit_length() - 1
                reach[source] |= target_bit
                if source != target:
                    paths[source][target] = strength
    return paths


def _position_planes(option_count: int, rankings: list[tuple[int, ...]]) -> tuple[list[list[int]], list[int]]:
    """Each option's positions as bit planes (lowest bit first), and the rankings that leave it out.

    Every plane and set is an integer with one bit per ranking, the first ranking highest.
    """
    option_bytes = bytes(range(option_count))
    all_unranked = bytes([option_count]) * option_count
    # Row r, column x: option x's position on ranking r, or option_count when unranked. A
    # translation table maps each option to its position, every option first set to unranked.
    matrix = b"".join(
        [
            bytes.maketrans(option_bytes + bytes(ranking), all_unranked + option_bytes[: len(ranking)])[
                :option_count
            ]
            for ranking in rankings
        ]
    )
    bit_count = option_count.bit_length()
    plane_tables = [
        bytes(_ONE if value >> bit & 1 else _ZERO for value in range(256)) for bit in range(bit_count)
    ]
    unranked_table = bytes(_ONE if value == option_count else _ZERO for value in range(256))
    planes: list[list[int]] = []
    unranked: list[int] = []
    for option in range(option_count):
        column = matrix[option::option_count]
        planes.append([int(column.translate(table), 2) for table in plane_tables])
        unranked.append(int(column.translate(unranked_table), 2))
    return planes, unranked


def _weigher(counts: list[int]) -> Callable[[int], int]:
    """A function from a set of rankings (bits, the first ranking highest) to their voters.

    Every ranking counts once by the bits set, plus its voters beyond the first through the
    bits of `count - 1`. `counts` come in ascending order, so the rankings with more than one
    voter are the lowest bits, and masking them off is cheap however many rankings there are.
    """
    extra_planes = [
        (bit, int(bytes(_ONE if (count - 1) >> bit & 1 else _ZERO for count in counts), 2))
        for bit in range((counts[-1] - 1).bit_length())
    ]
    bits = [bit for bit, plane in extra_planes if plane]
    planes = [plane for _, plane in extra_planes if plane]
    if not planes:
        return int.bit_count

    def weigh(rankings: int) -> int:
        # The sum of (rankings & plane).bit_count() << bit, over the planes, in C.
        extra = map(int.__lshift__, map(int.bit_count, map(rankings.__and__, planes)), bits)
        return rankings.bit_count() + sum(extra)

    return weigh
