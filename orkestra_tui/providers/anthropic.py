"""Claude through the official anthropic SDK (`AsyncAnthropic`), imported on first use.

The SDK's own retries are off (`max_retries=0`): one policy, in the engine's
call path, decides what to retry and for how long. The Messages API of this
SDK generation takes no sampling temperature, so none is sent.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from orkestra_tui.providers.base import (
    ProviderError,
    ProviderRequest,
    ProviderResponse,
    error_for_status,
    retry_after_seconds,
    short_message,
)


class AnthropicProvider:
    vendor = "anthropic"

    def __init__(
        self, model: str, api_key: str, *, base_url: str | None = None, timeout_s: float = 120.0
    ) -> None:
        self.model = model
        self._api_key = api_key
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def _sdk_client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            # An SDK client belongs to the event loop it was made in: make a new one for a new loop.
            import anthropic

            self._client = anthropic.AsyncAnthropic(
                api_key=self._api_key, base_url=self._base_url, max_retries=0, timeout=self._timeout_s
            )
            self._client_loop = loop
        return self._client

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        import anthropic

        client = self._sdk_client()
        try:
            response = await client.messages.create(
                model=self.model,
                max_tokens=request.max_tokens,
                system=request.system,
                messages=[{"role": message.role, "content": message.content} for message in request.messages],
            )
        except anthropic.APIStatusError as error:
            raise error_for_status(
                error.status_code,
                short_message(error.body) if error.body is not None else error.message,
                retry_after=retry_after_seconds(error.response.headers),
            ) from None
        except anthropic.APITimeoutError:
            raise ProviderError("timeout", f"no answer within {self._timeout_s:g} s") from None
        except anthropic.APIConnectionError as error:
            raise ProviderError("connection", f"connection failed: {error.__cause__ or error}") from None
        except (json.JSONDecodeError, anthropic.APIResponseValidationError) as error:
            raise ProviderError("malformed", f"the response could not be read: {error}") from None
        text = "".join(block.text for block in response.content if getattr(block, "type", "") == "text")
        usage = response.usage
        return ProviderResponse(
            text=text,
            tokens_in=int(usage.input_tokens or 0),
            tokens_out=int(usage.output_tokens or 0),
            model=str(response.model or self.model),
        )

    async def aclose(self) -> None:
        """Close the SDK client's connections (in the loop that made it)."""
        if self._client is not None and self._client_loop is asyncio.get_running_loop():
            await self._client.close()
        self._client = None
