"""ChatGPT, and every OpenAI-compatible endpoint (Grok at xAI, Ollama, others), through `AsyncOpenAI`.

One adapter serves them all by `base_url`. The SDK is imported on first use
and its own retries are off (`max_retries=0`). A structured request gets its
schema as `response_format` (`json_schema`: strict at OpenAI and xAI, without
strict mode for a local server), or JSON mode where there is no schema form
(`providers/structured.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orkestra_tui.providers import structured
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
    structured_output_refused = False
    """Set when the endpoint refused `response_format`: the agent's later calls go without it."""

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
        return arguments

    def _structured(self, request: ProviderRequest) -> tuple[str, dict[str, Any]]:
        """The path a structured request takes here, and the arguments that ask for it."""
        if request.json_schema is None:
            return "", {}
        if self.structured_output_refused:
            return structured.OUTPUT_PROMPT, {}
        # A local server builds a grammar from the schema; the strict flag is OpenAI's and xAI's.
        local = self.vendor == "local"
        if local:
            schema = structured.local_schema(request.json_schema)
        elif structured.openai_takes_schema(self.model):
            schema = structured.strict_schema(request.json_schema)
        else:
            schema = None
        if schema is None:
            return structured.OUTPUT_JSON, {"response_format": {"type": "json_object"}}
        json_schema: dict[str, Any] = {"name": structured.schema_name(request.purpose), "schema": schema}
        if not local:
            json_schema["strict"] = True
        return structured.OUTPUT_SCHEMA, {
            "response_format": {"type": "json_schema", "json_schema": json_schema}
        }

    def output_path(self, request: ProviderRequest) -> str:
        """How this provider asks for a structured answer now: schema, json or prompt ("" for free text)."""
        return self._structured(request)[0]

    def _refused(self) -> None:
        self.structured_output_refused = True

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        import openai

        client = self._sdk_client()
        arguments = self._arguments(request)

        async def send(extra: Mapping[str, Any]) -> Any:
            try:
                return await client.chat.completions.create(**arguments, **extra)
            except Exception as error:
                classified = stainless_error(openai, error, self._timeout_s)
                if classified is None:
                    raise
                raise classified from None

        response = await structured.sending(
            self._structured(request)[1], send, structured.OPENAI_PARAMETERS, self._refused
        )
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
