"""Gemini through google-genai's async client (`client.aio.models.generate_content`).

google-generativeai reached its end of life on 2025-11-30; google-genai is its
successor. The client is kept for the provider's lifetime. Its retry options
are set explicitly to one attempt: with aiohttp installed the SDK otherwise
takes a path that retries dropped connections silently after random sleeps.
"""

from __future__ import annotations

import json
from typing import Any

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


class GeminiProvider(SdkProvider):
    vendor = "google"
    sdk_module = "google.genai"

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

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        from google.genai import errors, types

        client = self._sdk_client()
        config = types.GenerateContentConfig(
            system_instruction=request.system or None,
            max_output_tokens=request.max_tokens,
            temperature=request.temperature,
            response_mime_type="application/json" if request.json_schema is not None else None,
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
