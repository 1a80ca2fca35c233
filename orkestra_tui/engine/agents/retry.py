"""One retry policy for every provider: exponential backoff with full jitter.

The SDKs' own retries are turned off, so this is the only place that decides
whether a failed call is tried again and after how long. A `retry-after` from
the server is honoured, up to a cap (the anthropic SDK would otherwise wait as
long as the server says).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orkestra_tui.providers.base import ProviderError


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    retry_after_cap_s: float = 30.0

    def should_retry(self, error: ProviderError, attempt: int) -> bool:
        return error.retryable and attempt < self.max_attempts

    def delay_s(self, error: ProviderError, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before attempt `attempt + 1`."""
        if error.retry_after is not None:
            return min(error.retry_after, self.retry_after_cap_s)
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return rng.uniform(0.0, ceiling)
