"""Problems shown under the form fields they concern, the same way in every form.

A form gives each of its fields an error line: a Static with the id
`{field}-error` that its CSS hides until it has the class `-shown`. A problem
that belongs to no field goes to the error line of `form`. A form may add an
error line only when its field first has a problem: fields without one then
have nothing to clear.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.widget import Widget
from textual.widgets import Static

from orkestra_tui.tui.text import plain


def show_field_errors(
    root: Widget, fields: Iterable[str], errors: Mapping[str, str], focus: Mapping[str, str]
) -> None:
    """Show each problem under its field (no problems clear them all) and focus the first field with one.

    `fields` is in the order the form shows them; `focus` maps a field to the
    selector of the widget that takes the focus (a field without one, like
    `form`, takes none).
    """
    first = None
    for field in fields:
        if field not in errors and not root.query(f"#{field}-error"):
            continue  # no error line yet: nothing to clear
        error = root.query_one(f"#{field}-error", Static)
        error.update(plain(errors.get(field, "")))
        error.set_class(field in errors, "-shown")
        if first is None and field in errors:
            first = field
    if first is not None and first in focus:
        root.query_one(focus[first]).focus()
