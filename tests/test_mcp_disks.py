"""`orkestra mcp` on a read-only data dir and on a disk that fills while it serves.

Real disks (see `mounts`: a read-only bind mount, a small tmpfs), the installed
server in a process of its own, and the MCP SDK's stdio client.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import TextContent
from mounts import fill, read_only_view, small_disk  # noqa: F401 (fixtures)

INSTALLED = Path(sys.executable).parent / "orkestra"
CONFIG = "[engine]\nmin_free_mb = 0\n\n[simulation]\nseed = 3\nlatency_ms = 0\n"
GUARD_S = 60


def test_a_read_only_data_dir_is_one_line_before_any_protocol(
    read_only_view: tuple[Path, Path],  # noqa: F811
) -> None:
    source, view = read_only_view
    (source / "config.toml").write_text(CONFIG, encoding="utf-8")
    (source / "data").mkdir()
    done = subprocess.run(
        [str(INSTALLED), "mcp", "--data-dir", str(view)],
        input="",
        capture_output=True,
        text=True,
        timeout=GUARD_S,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"orkestra: cannot write in {view / 'data'}: it is on a read-only disk"), line


async def test_a_disk_that_fills_while_serving_is_a_tool_error_and_reads_go_on(
    small_disk: Path,  # noqa: F811
) -> None:
    home = small_disk
    (home / "config.toml").write_text(CONFIG, encoding="utf-8")
    parameters = StdioServerParameters(command=str(INSTALLED), args=["mcp", "--data-dir", str(home)])
    with (home.parent / "server-stderr.log").open("w", encoding="utf-8") as errlog:
        async with stdio_client(parameters, errlog=errlog) as streams, ClientSession(*streams) as client:
            await client.initialize()
            filler = fill(home, 0)
            question = {"question": "Which database?", "options": ["SQLite", "Postgres", "Both"]}
            full = await client.call_tool("ask_committee", question)
            listed = await client.call_tool("list_projects", {})
            filler.unlink()
            again = await client.call_tool("ask_committee", question)
    [block] = full.content
    assert full.is_error and isinstance(block, TextContent)
    assert "\n" not in block.text and "Traceback" not in block.text
    assert f"the disk holding {home / 'data'} is full" in block.text, block.text
    assert not listed.is_error
    assert not again.is_error and again.structured_content is not None
    assert again.structured_content["status"] in ("decided", "no_decision")
    assert "Traceback" not in (home.parent / "server-stderr.log").read_text(encoding="utf-8")
