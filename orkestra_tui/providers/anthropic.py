"""Claude through the official anthropic SDK (`AsyncAnthropic`), imported on first use.

The SDK's own retries are off (`max_retries=0`): one policy, in the engine's
call path, decides what to retry and for how long. The Messages API of this
SDK generation takes no sampling temperature, so none is sent.
"""

from __future__ import annotations

from typing import Any

from orkestra_tui.providers.base import (
    ProviderRequest,
    ProviderResponse,
    SdkProvider,
    reading_answer,
    stainless_error,
)


class AnthropicProvider(SdkProvider):
    vendor = "anthropic"
    sdk_module = "anthropic"

    def _make_client(self) -> Any:
        import anthropic

        return anthropic.AsyncAnthropic(
            api_key=self._api_key, base_url=self._base_url, max_retries=0, timeout=self._timeout_s
        )

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
        except Exception as error:
            classified = stainless_error(anthropic, error, self._timeout_s)
            if classified is None:
                raise
            raise classified from None
        with reading_answer():
            text = "".join(block.text for block in response.content if getattr(block, "type", "") == "text")
            usage = response.usage
            return ProviderResponse(
                text=text,
                tokens_in=int(usage.input_tokens or 0),
                tokens_out=int(usage.output_tokens or 0),
                model=str(response.model or self.model),
                stop_reason=str(response.stop_reason or ""),
            )
