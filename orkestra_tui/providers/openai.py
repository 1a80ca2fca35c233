"""ChatGPT, and every OpenAI-compatible endpoint (Grok at xAI, Ollama, others), through `AsyncOpenAI`.

One adapter serves them all by `base_url`; xAI and Ollama are subclasses that
differ only in their vendor facts. The SDK is imported on first use
and its own retries are off (`max_retries=0`). A structured request gets its
schema as `response_format` (`json_schema`: strict at OpenAI and xAI, without
strict mode for a local server), or JSON mode where there is no schema form
(`providers/structured.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from orkestra_tui.providers import structured
from orkestra_tui.providers.base import (
    Provider,
    ProviderError,
    ProviderRequest,
    ProviderResponse,
    ProviderSettings,
    SdkProvider,
    reading_answer,
    stainless_error,
)
from orkestra_tui.providers.models_catalog import chat_options

OLLAMA_DEFAULT_HOST = "http://localhost:11434"
LOCAL_NAME_SUFFIXES = (".localhost", ".local", ".lan", ".internal")


def is_local_address(base_url: str) -> bool:
    """Whether a URL's host is on this machine or network: loopback, a private network,
    `localhost`, a `.local` or `.lan` name."""
    if not base_url:
        return False
    import ipaddress
    from urllib.parse import urlsplit

    try:
        host = (urlsplit(base_url).hostname or "").lower()
    except ValueError:
        return False
    if host == "localhost" or host.endswith(LOCAL_NAME_SUFFIXES):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified


class OpenAIProvider(SdkProvider):
    vendor = "openai"
    key_variables: ClassVar[tuple[str, ...]] = ("OPENAI_API_KEY", "CHATGPT_API_KEY")
    model_variable = "CHATGPT_MODEL"
    base_url_variable = "OPENAI_BASE_URL"
    sdk_endpoint = "https://api.openai.com/v1"
    sdk_module = "openai"
    structured_output_refused = False
    """Set when the endpoint refused `response_format`: the agent's later calls go without it."""

    @classmethod
    def serves_locally(cls, base_url: str) -> bool:
        """An OpenAI-compatible server at a local address (llama.cpp, vLLM, LM Studio...)."""
        return is_local_address(base_url)

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> Provider:
        return cls(
            settings.model,
            settings.api_key,
            base_url=settings.base_url or None,
            timeout_s=settings.timeout_s,
            stream=settings.local,  # a local server stops generating when the stream it writes to closes
        )

    def __init__(
        self,
        model: str,
        api_key: str,
        *,
        vendor: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 120.0,
        stream: bool = False,
    ) -> None:
        super().__init__(model, api_key, base_url=base_url, timeout_s=timeout_s)
        self.vendor = vendor or type(self).vendor
        """The class's vendor unless told otherwise (one class serves every compatible endpoint)."""
        self.stream = stream
        """Take the answer as a stream (local servers): a call given up on then closes a stream the
        server is writing to, and a server that answers in one piece would notice only once done."""

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
                if self.stream:
                    return await self._streamed(client, {**arguments, **extra})
                return await client.chat.completions.create(**arguments, **extra)
            except Exception as error:
                classified = stainless_error(openai, error, self._timeout_s)
                if classified is None:
                    raise
                raise classified from None

        response = await structured.sending(
            self._structured(request)[1], send, structured.OPENAI_PARAMETERS, self._refused
        )
        if isinstance(response, ProviderResponse):
            return response  # streamed, and read as it came
        with reading_answer():
            if not response.choices:
                raise ProviderError("malformed", "the response has no choices")
            usage = response.usage
            return ProviderResponse(
                text=response.choices[0].message.content or "",
                tokens_in=int(usage.prompt_tokens or 0) if usage else 0,
                tokens_out=int(usage.completion_tokens or 0) if usage else 0,
                model=str(response.model or self.model),
                stop_reason=str(response.choices[0].finish_reason or ""),
            )

    async def _streamed(self, client: Any, arguments: Mapping[str, Any]) -> ProviderResponse:
        """The answer read chunk by chunk; the stream is closed however the call ends (a timeout,
        a stop), which closes the connection the server is generating into."""
        import openai

        stream = await client.chat.completions.create(
            **arguments, stream=True, stream_options={"include_usage": True}
        )
        content_type = str(stream.response.headers.get("content-type", ""))
        if "text/event-stream" not in content_type:
            await stream.close()
            raise ProviderError(
                "malformed", f"the answer came as {content_type or 'no type'}, not as a stream"
            )
        parts: list[str] = []
        stop_reason, model, usage = "", self.model, None
        try:
            async with stream:
                async for chunk in stream:
                    with reading_answer():
                        model = chunk.model or model
                        usage = chunk.usage or usage
                        for choice in chunk.choices or ():
                            parts.append((choice.delta.content or "") if choice.delta else "")
                            stop_reason = choice.finish_reason or stop_reason
        except Exception as error:
            if type(error) is openai.APIError:  # an error event in the stream: the server failed mid-answer
                raise ProviderError("server", f"the server failed mid-answer: {error.message}") from None
            if not type(error).__module__.startswith(("httpx", "httpcore")):
                raise
            if "Timeout" in type(error).__name__:
                raise ProviderError("timeout", f"no answer within {self._timeout_s:g} s") from None
            raise ProviderError(
                "connection", f"the answer's stream broke off: {error or type(error).__name__}"
            ) from None
        if not stop_reason:
            # A stream that ends without saying why the model stopped was cut short on the way.
            raise ProviderError("connection", "the answer's stream ended before the answer did")
        return ProviderResponse(
            text="".join(parts),
            tokens_in=int(usage.prompt_tokens or 0) if usage else 0,
            tokens_out=int(usage.completion_tokens or 0) if usage else 0,
            model=str(model),
            stop_reason=str(stop_reason),
        )


class XaiProvider(OpenAIProvider):
    """Grok, at xAI's OpenAI-compatible endpoint."""

    vendor = "xai"
    key_variables = ("XAI_API_KEY", "GROK_API_KEY")
    model_variable = "GROK_MODEL"
    base_url_variable = ""
    default_base_url = "https://api.x.ai/v1"
    sdk_endpoint = default_base_url

    @classmethod
    def serves_locally(cls, base_url: str) -> bool:
        return False  # a base URL on this machine is a proxy to xAI


class OllamaProvider(OpenAIProvider):
    """A model served by Ollama (OLLAMA_HOST, else this machine), through its OpenAI-compatible API."""

    vendor = "local"
    key_variables = ()
    model_variable = ""
    base_url_variable = ""
    sdk_endpoint = OLLAMA_DEFAULT_HOST + "/v1"
    placeholder_key = "ollama"
    """Ollama wants no key, but the SDK refuses to run without one."""

    @classmethod
    def base_url_from(cls, env: Mapping[str, str]) -> str:
        host = env.get("OLLAMA_HOST", "").strip() or OLLAMA_DEFAULT_HOST
        if "://" not in host:
            host = f"http://{host}"
        return host.rstrip("/") + "/v1"

    @classmethod
    def serves_locally(cls, base_url: str) -> bool:
        return True  # wherever it runs, it is one machine answering one request at a time
