"""Claude through the official anthropic SDK (`AsyncAnthropic`), imported on first use.

The SDK's own retries are off (`max_retries=0`): one policy, in the engine's
call path, decides what to retry and for how long. No sampling temperature is
sent; the thinking argument comes from `models_catalog`, which knows what each
Claude model refuses. A structured request on a model with structured outputs
(Claude 4.5 and later) gets its schema as `output_config.format`
(`providers/structured.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orkestra_tui.providers import structured
from orkestra_tui.providers.base import (
    ProviderRequest,
    ProviderResponse,
    SdkProvider,
    reading_answer,
    stainless_error,
)
from orkestra_tui.providers.models_catalog import anthropic_options


class AnthropicProvider(SdkProvider):
    vendor = "anthropic"
    key_variables = ("ANTHROPIC_API_KEY", "CLAUDE_API_KEY")
    model_variable = "CLAUDE_MODEL"
    base_url_variable = "ANTHROPIC_BASE_URL"
    sdk_endpoint = "https://api.anthropic.com"
    sdk_module = "anthropic"
    structured_output_refused = False
    """Set when the endpoint refused `output_config`: the agent's later calls go without it."""

    def _make_client(self) -> Any:
        import anthropic

        return anthropic.AsyncAnthropic(
            api_key=self._api_key, base_url=self._base_url, max_retries=0, timeout=self._timeout_s
        )

    def _structured(self, request: ProviderRequest) -> tuple[str, dict[str, Any]]:
        """The path a structured request takes here, and the arguments that ask for it."""
        if request.json_schema is None:
            return "", {}
        if self.structured_output_refused or not structured.anthropic_takes_schema(self.model):
            return structured.OUTPUT_PROMPT, {}
        schema = structured.anthropic_schema(request.json_schema)
        if schema is None:
            return structured.OUTPUT_PROMPT, {}
        return structured.OUTPUT_SCHEMA, {
            "output_config": {"format": {"type": "json_schema", "schema": schema}}
        }

    def output_path(self, request: ProviderRequest) -> str:
        """How this provider asks for a structured answer now: schema or prompt ("" for free text)."""
        return self._structured(request)[0]

    def _refused(self) -> None:
        self.structured_output_refused = True

    async def list_models(self) -> list[str]:
        """The ids of the models the endpoint offers (`GET /v1/models`, every page)."""
        import anthropic

        try:
            return [model.id async for model in self._sdk_client().models.list(limit=1000)]
        except Exception as error:
            classified = stainless_error(anthropic, error, self._timeout_s)
            if classified is None:
                raise
            raise classified from None

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        import anthropic

        client = self._sdk_client()

        async def send(extra: Mapping[str, Any]) -> Any:
            try:
                return await client.messages.create(
                    model=self.model,
                    max_tokens=request.max_tokens,
                    system=request.system,
                    messages=[
                        {"role": message.role, "content": message.content} for message in request.messages
                    ],
                    **anthropic_options(self.model),
                    **extra,
                )
            except Exception as error:
                classified = stainless_error(anthropic, error, self._timeout_s)
                if classified is None:
                    raise
                raise classified from None

        response = await structured.sending(
            self._structured(request)[1], send, structured.ANTHROPIC_PARAMETERS, self._refused
        )
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
