"""ChatGPT, and every OpenAI-compatible endpoint (Grok at xAI, Ollama, others), through `AsyncOpenAI`.

One adapter serves them all by `base_url`. The SDK is imported on first use
and its own retries are off (`max_retries=0`).
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

REASONING_MODEL_PREFIXES = ("gpt-5", "o1", "o3", "o4")
"""OpenAI models that take `max_completion_tokens` and only their default temperature."""


class OpenAIProvider:
    def __init__(
        self,
        model: str,
        api_key: str,
        *,
        vendor: str = "openai",
        base_url: str | None = None,
        timeout_s: float = 120.0,
    ) -> None:
        self.vendor = vendor
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
            import openai

            self._client = openai.AsyncOpenAI(
                api_key=self._api_key, base_url=self._base_url, max_retries=0, timeout=self._timeout_s
            )
            self._client_loop = loop
        return self._client

    def _arguments(self, request: ProviderRequest) -> dict[str, Any]:
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages += [{"role": message.role, "content": message.content} for message in request.messages]
        arguments: dict[str, Any] = {"model": self.model, "messages": messages}
        if self.vendor == "openai" and self.model.startswith(REASONING_MODEL_PREFIXES):
            arguments["max_completion_tokens"] = request.max_tokens
        else:
            arguments["max_tokens"] = request.max_tokens
            arguments["temperature"] = request.temperature
        if request.json_schema is not None:
            arguments["response_format"] = {"type": "json_object"}
        return arguments

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        import openai

        client = self._sdk_client()
        try:
            response = await client.chat.completions.create(**self._arguments(request))
        except openai.APIStatusError as error:
            raise error_for_status(
                error.status_code,
                short_message(error.body) if error.body is not None else error.message,
                retry_after=retry_after_seconds(error.response.headers),
            ) from None
        except openai.APITimeoutError:
            raise ProviderError("timeout", f"no answer within {self._timeout_s:g} s") from None
        except openai.APIConnectionError as error:
            raise ProviderError("connection", f"connection failed: {error.__cause__ or error}") from None
        except (json.JSONDecodeError, openai.APIResponseValidationError) as error:
            raise ProviderError("malformed", f"the response could not be read: {error}") from None
        if not response.choices:
            raise ProviderError("malformed", "the response has no choices")
        usage = response.usage
        return ProviderResponse(
            text=response.choices[0].message.content or "",
            tokens_in=int(usage.prompt_tokens or 0) if usage else 0,
            tokens_out=int(usage.completion_tokens or 0) if usage else 0,
            model=str(response.model or self.model),
        )

    async def aclose(self) -> None:
        """Close the SDK client's connections (in the loop that made it)."""
        if self._client is not None and self._client_loop is asyncio.get_running_loop():
            await self._client.close()
        self._client = None
