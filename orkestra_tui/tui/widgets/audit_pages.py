"""The events of an audit view, newest first, read from the store a page at a time.

Row `i` of the view is found without reading the rows before it twice: pages
are read in order with keyset pagination (`before_id`, the last id of the
page above), their boundaries are kept for good, and their events are kept
for the most recently used pages only, so scrolling through a million events
holds a few thousand in memory and reads each page once (twice, if it is
scrolled away from for long and back). The live tail reads only what is newer
than the newest row (`after_id`) and puts it on top, in `head`.
"""

from __future__ import annotations

from collections import OrderedDict

from orkestra_tui.engine.models import AuditEvent
from orkestra_tui.engine.store.audit_export import AuditSearch, search_arguments
from orkestra_tui.engine.store.audit_search import AuditFilter

PAGE_SIZE = 100
CACHED_PAGES = 30


class AuditPages:
    """A filtered view of the audit log, read lazily through `search` (`Engine.search_audit`)."""

    def __init__(
        self,
        search: AuditSearch,
        audit_filter: AuditFilter,
        *,
        page_size: int = PAGE_SIZE,
        cached_pages: int = CACHED_PAGES,
    ) -> None:
        self.search = search
        self.filter = audit_filter
        self.page_size = page_size
        self.cached_pages = cached_pages
        self.head: list[AuditEvent] = []
        """Events the tail found, newest first, above the first page."""
        self.loaded = 0
        """The rows in the pages read so far."""
        self.exhausted = False
        """Whether the last page has been read."""
        self.newest_id: int | None = None
        """The id of the newest event in the view, once known."""
        self._before_ids: list[int | None] = [None]
        """Each page's `before_id`; the next page to read is the last one's."""
        self._pages: OrderedDict[int, list[AuditEvent]] = OrderedDict()

    def __len__(self) -> int:
        """The rows known so far: the tail's, then the pages read."""
        return len(self.head) + self.loaded

    def row(self, index: int) -> AuditEvent | None:
        """The event at row `index`, if that row has been read (reading its page again if evicted)."""
        if index < 0:
            return None
        if index < len(self.head):
            return self.head[index]
        index -= len(self.head)
        if index >= self.loaded:
            return None
        number, offset = divmod(index, self.page_size)
        page = self._page(number)
        return page[offset] if offset < len(page) else None

    def load_until(self, rows: int) -> bool:
        """Read pages until at least `rows` rows are known or none are left; whether any were read."""
        read = False
        while len(self) < rows and not self.exhausted:
            self._read_next_page()
            read = True
        return read

    def newer(self) -> int | None:
        """Read what is newer than the newest row onto the top; how many rows came, None if all was re-read.

        When as many new events as a page (or more) came, or the tail's rows
        would make a page, the view starts again from the newest page: one
        query either way.
        """
        if self.newest_id is None:
            if self.exhausted:  # an empty view: whatever is there now is new
                self._restart()
                return None if self.loaded else 0
            return 0
        fresh = self.search(**search_arguments(self.filter), after_id=self.newest_id, limit=self.page_size)
        if not fresh:
            return 0
        if len(fresh) >= self.page_size or len(self.head) + len(fresh) >= self.page_size:
            self._restart()
            return None
        fresh.sort(key=lambda event: event.id, reverse=True)  # after an id, the store answers oldest first
        self.head[:0] = fresh
        self.newest_id = fresh[0].id
        return len(fresh)

    def _restart(self) -> None:
        self.head = []
        self.loaded = 0
        self.exhausted = False
        self.newest_id = None
        self._before_ids = [None]
        self._pages.clear()
        self._read_next_page()

    def _read_next_page(self) -> None:
        number = len(self._before_ids) - 1
        page = self._query(self._before_ids[number])
        if number == 0 and page:
            # Pin the first page: read again, it must not take in what came since.
            self._before_ids[0] = page[0].id + 1
            self.newest_id = page[0].id
        self._keep(number, page)
        self.loaded += len(page)
        if len(page) < self.page_size:
            self.exhausted = True
        else:
            self._before_ids.append(page[-1].id)

    def _page(self, number: int) -> list[AuditEvent]:
        page = self._pages.get(number)
        if page is None:
            page = self._query(self._before_ids[number])
            self._keep(number, page)
        else:
            self._pages.move_to_end(number)
        return page

    def _query(self, before_id: int | None) -> list[AuditEvent]:
        return self.search(**search_arguments(self.filter), before_id=before_id, limit=self.page_size)

    def _keep(self, number: int, page: list[AuditEvent]) -> None:
        self._pages[number] = page
        self._pages.move_to_end(number)
        while len(self._pages) > self.cached_pages:
            self._pages.popitem(last=False)
