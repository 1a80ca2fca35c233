"""Gemini through google-genai's async client (`client.aio.models.generate_content`).

google-generativeai reached its end of life on 2025-11-30; google-genai is its
successor. The client is kept for the provider's lifetime. Its retry options
are set explicitly to one attempt: with aiohttp installed the SDK otherwise
takes a path that retries dropped connections silently after random sleeps.
A structured request gets its schema as `response_json_schema` (Gemini 2.5 and
later), or the JSON mime type alone on older models (`providers/structured.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from orkestra_tui.providers import structured
from orkestra_tui.providers.base import (
    ProviderError,
    ProviderRequest,
    ProviderResponse,
    SdkProvider,
    error_for_status,
    reading_answer,
    retry_after_seconds,
    short_message,
)
from orkestra_tui.providers.models_catalog import gemini_sampling


class GeminiProvider(SdkProvider):
    vendor = "google"
    key_variables = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    model_variable = "GEMINI_MODEL"
    base_url_variable = "GOOGLE_GEMINI_BASE_URL"
    sdk_endpoint = "https://generativelanguage.googleapis.com"
    sdk_module = "google.genai"
    structured_output_refused = False
    """Set when the endpoint refused the JSON schema or mime type: the agent's later calls go without."""

    def _make_client(self) -> Any:
        from google import genai
        from google.genai import types

        options = types.HttpOptions(
            base_url=self._base_url,
            timeout=int(self._timeout_s * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        return genai.Client(api_key=self._api_key, http_options=options)

    async def _close_client(self, client: Any) -> None:
        await client.aio.aclose()

    def _structured(self, request: ProviderRequest) -> tuple[str, dict[str, Any]]:
        """The path a structured request takes here, and the config fields that ask for it."""
        if request.json_schema is None:
            return "", {}
        if self.structured_output_refused:
            return structured.OUTPUT_PROMPT, {}
        json_mode = {"response_mime_type": "application/json"}
        schema = structured.gemini_schema(request.json_schema)
        if schema is None or not structured.gemini_takes_schema(self.model):
            return structured.OUTPUT_JSON, json_mode
        return structured.OUTPUT_SCHEMA, {**json_mode, "response_json_schema": schema}

    def output_path(self, request: ProviderRequest) -> str:
        """How this provider asks for a structured answer now: schema, json or prompt ("" for free text)."""
        return self._structured(request)[0]

    def _refused(self) -> None:
        self.structured_output_refused = True

    async def list_models(self) -> list[str]:
        """The ids of the models the endpoint offers (`GET .../models`, every page), without `models/`."""
        from google.genai import errors

        try:
            pager = await self._sdk_client().aio.models.list(config={"page_size": 1000})
            return [str(model.name or "").removeprefix("models/") async for model in pager]
        except errors.APIError as error:
            message = short_message(error.message or error.details)
            raise error_for_status(int(error.code or 0), message) from None
        except Exception as error:
            if isinstance(error, OSError) or type(error).__module__.startswith(
                ("httpx", "httpcore", "aiohttp")
            ):
                kind = "timeout" if "Timeout" in type(error).__name__ else "connection"
                raise ProviderError(
                    kind, f"could not list the models: {error or type(error).__name__}"
                ) from None
            raise

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        return await structured.sending(
            self._structured(request)[1],
            lambda extra: self._complete(request, extra),
            structured.GEMINI_PARAMETERS,
            self._refused,
        )

    async def _complete(self, request: ProviderRequest, output: Mapping[str, Any]) -> ProviderResponse:
        from google.genai import errors, types

        client = self._sdk_client()
        config = types.GenerateContentConfig(
            system_instruction=request.system or None,
            max_output_tokens=request.max_tokens,
            **gemini_sampling(self.model, request.temperature),
            **output,
        )
        contents = [
            types.Content(
                role="model" if message.role == "assistant" else "user",
                parts=[types.Part(text=message.content)],
            )
            for message in request.messages
        ]
        try:
            response = await client.aio.models.generate_content(
                model=self.model, contents=contents, config=config
            )
        except errors.APIError as error:
            headers = getattr(getattr(error, "response", None), "headers", None)
            raise error_for_status(
                int(error.code or 0),
                short_message(error.message or error.details),
                retry_after=retry_after_seconds(headers),
            ) from None
        except json.JSONDecodeError as error:
            raise ProviderError("malformed", f"the response could not be read: {error}") from None
        except TimeoutError:
            raise ProviderError("timeout", f"no answer within {self._timeout_s:g} s") from None
        except OSError as error:
            raise ProviderError("connection", f"connection failed: {error}") from None
        except Exception as error:
            if type(error).__module__.startswith(("httpx", "httpcore", "aiohttp")):
                if "Timeout" in type(error).__name__:
                    raise ProviderError("timeout", f"no answer within {self._timeout_s:g} s") from None
                raise ProviderError(
                    "connection", f"connection failed: {error or type(error).__name__}"
                ) from None
            raise
        with reading_answer():
            usage = response.usage_metadata
            return ProviderResponse(
                text=response.text or "",
                tokens_in=int(getattr(usage, "prompt_token_count", 0) or 0),
                tokens_out=int(getattr(usage, "candidates_token_count", 0) or 0),
                model=self.model,
                stop_reason=_finish_reason(response),
            )


def _finish_reason(response: Any) -> str:
    """The first candidate's finish reason (`STOP`, `MAX_TOKENS`), as its enum's value."""
    candidates = response.candidates or []
    reason = getattr(candidates[0], "finish_reason", None) if candidates else None
    return str(getattr(reason, "value", reason) or "")
