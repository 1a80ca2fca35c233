"""The real-model measurement's own parts, without a model: the relay, the counts, the skips."""

from __future__ import annotations

import json
import time
from pathlib import Path

import openai
import pytest

from orkestra_tui.bench.fake_api import Reply, serving
from orkestra_tui.bench.realmodel import (
    Session,
    Step,
    committee_config,
    committee_environment,
    find_runtime,
)
from orkestra_tui.bench.realmodel_relay import Exchange, relaying
from orkestra_tui.bench.realmodel_report import is_placeholder, is_real_task, report


def test_the_relay_passes_answers_through_and_notes_repairs_and_cut_offs() -> None:
    with serving() as fake, relaying(fake.url) as relay:
        fake.then(Reply(text="first"), Reply(text="second"))
        client = openai.OpenAI(api_key="local", base_url=relay.url + "/v1", max_retries=0)
        relay.phase = "vote"
        first = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "rank"}], max_tokens=800
        )
        relay.phase = "plan"
        repair = client.chat.completions.create(
            model="m",
            messages=[
                {"role": "user", "content": "rank"},
                {"role": "assistant", "content": "first"},
                {"role": "user", "content": "That answer could not be used."},
            ],
        )
    assert (first.choices[0].message.content, repair.choices[0].message.content) == ("first", "second")
    vote, plan = relay.exchanges
    assert (vote.phase, vote.repair, vote.max_tokens, vote.status) == ("vote", False, 800, 200)
    assert (plan.phase, plan.repair) == ("plan", True)
    assert vote.finish_reason == "stop" and vote.answer_chars == len("first")
    assert [len(fake.received)] == [2]


def test_placeholders_are_told_from_real_tasks() -> None:
    for placeholder in ("", "...", "<title>", "Title", "string", " … ", None):
        assert is_placeholder(placeholder), placeholder
    assert is_real_task({"title": "Store notes", "instructions": "Create the notes table in SQLite."})
    assert not is_real_task({"title": "...", "instructions": "..."})
    assert not is_real_task({"title": "Store notes", "instructions": ""})


def test_a_missing_runtime_is_a_reason_to_skip(tmp_path: Path) -> None:
    reason = find_runtime(tmp_path / "no-such-python")
    assert isinstance(reason, str)
    assert "scripts/realmodel_runtime.sh" in reason


def test_the_committee_reaches_the_one_model_through_three_providers() -> None:
    config = committee_config("http://127.0.0.1:9", "SmolLM2-135M-Instruct")
    assert config.count('base_url = "http://127.0.0.1:9/v1"') == 3
    assert {'provider = "ollama"', 'provider = "openai"', 'provider = "xai"'} <= set(config.splitlines())
    environment = committee_environment(
        {"OPENAI_API_KEY": "sk-real", "CHATGPT_MODEL": "gpt", "ORKESTRA_HOME": "/x", "PATH": "/bin"}
    )
    assert environment["PATH"] == "/bin" and environment["ORKESTRA_REALMODEL_KEY"] == "local"
    assert not {"OPENAI_API_KEY", "CHATGPT_MODEL", "ORKESTRA_HOME"} & set(environment)


def test_a_request_the_client_gives_up_on_is_noted_as_abandoned() -> None:
    with serving() as fake, relaying(fake.url) as relay:
        fake.then(Reply(text="late", delay_s=5))
        client = openai.OpenAI(api_key="local", base_url=relay.url + "/v1", max_retries=0, timeout=0.2)
        with pytest.raises(openai.APITimeoutError):
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "plan"}])
        for _ in range(500):
            if relay.exchanges:
                break
            time.sleep(0.01)
    (exchange,) = relay.exchanges
    assert exchange.abandoned and exchange.status == 0


def test_a_session_is_kept_as_json_and_counted() -> None:
    session = Session(7)
    session.steps["vote"] = Step("vote", 0, 1.0, {"status": "decided"})
    session.ballots = [('["SQLite"]', ""), ("[]", "abstained: invalid answer twice (no JSON)")]
    session.exchanges = [
        Exchange("vote", "/v1/chat/completions", False, 800, "json_object", 200, "stop"),
        Exchange("vote", "/v1/chat/completions", True, 800, "json_object", 200, "length"),
    ]
    record = json.loads(json.dumps(session.record()))
    assert record["steps"]["vote"]["exit_code"] == 0 and len(record["exchanges"]) == 2
    figures = report([session], "SmolLM2-135M-Instruct")
    assert figures["ballots"] == {"cast": 2, "counted": 1, "refused": 1, "empty": 0, "failed": 0}
    assert figures["exchanges"]["vote"] == {"requests": 1, "repairs": 1, "cut_off": 1, "abandoned": 0}
    assert "refused ballots     1/2 (50%)" in figures["text"]
