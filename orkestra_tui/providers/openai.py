"""ChatGPT, and every OpenAI-compatible endpoint (Grok at xAI, Ollama, others), through `AsyncOpenAI`.

One adapter serves them all by `base_url`. The SDK is imported on first use
and its own retries are off (`max_retries=0`).
"""

from __future__ import annotations

from typing import Any

from orkestra_tui.providers.base import (
    ProviderError,
    ProviderRequest,
    ProviderResponse,
    SdkProvider,
    reading_answer,
    stainless_error,
)
from orkestra_tui.providers.models_catalog import chat_options


class OpenAIProvider(SdkProvider):
    sdk_module = "openai"

    def __init__(
        self,
        model: str,
        api_key: str,
        *,
        vendor: str = "openai",
        base_url: str | None = None,
        timeout_s: float = 120.0,
    ) -> None:
        super().__init__(model, api_key, base_url=base_url, timeout_s=timeout_s)
        self.vendor = vendor

    def _make_client(self) -> Any:
        import openai

        return openai.AsyncOpenAI(
            api_key=self._api_key, base_url=self._base_url, max_retries=0, timeout=self._timeout_s
        )

    async def list_models(self) -> list[str]:
        """The ids of the models the endpoint offers (`GET {base_url}/models`, as Ollama serves it too)."""
        import openai

        try:
            return [model.id async for model in self._sdk_client().models.list()]
        except Exception as error:
            classified = stainless_error(openai, error, self._timeout_s)
            if classified is None:
                raise
            raise classified from None

    def _arguments(self, request: ProviderRequest) -> dict[str, Any]:
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages += [{"role": message.role, "content": message.content} for message in request.messages]
        arguments: dict[str, Any] = {"model": self.model, "messages": messages}
        arguments |= chat_options(self.vendor, self.model, request.max_tokens, request.temperature)
        if request.json_schema is not None:
            arguments["response_format"] = {"type": "json_object"}
        return arguments

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        import openai

        client = self._sdk_client()
        try:
            response = await client.chat.completions.create(**self._arguments(request))
        except Exception as error:
            classified = stainless_error(openai, error, self._timeout_s)
            if classified is None:
                raise
            raise classified from None
        with reading_answer():
            if not response.choices:
                raise ProviderError("malformed", "the response has no choices")
            usage = response.usage
            return ProviderResponse(
                text=response.choices[0].message.content or "",
                tokens_in=int(usage.prompt_tokens or 0) if usage else 0,
                tokens_out=int(usage.completion_tokens or 0) if usage else 0,
                model=str(response.model or self.model),
            )
