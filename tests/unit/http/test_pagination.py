"""``X-Pagination-*`` headers as LangGraph Server sends them on search routes."""

from __future__ import annotations

from lambdagraph.http.responses import pagination_headers


def test_more_results_count_one_past_the_page_and_name_the_next_offset() -> None:
    assert pagination_headers(found=25, offset=10, limit=10) == {
        "X-Pagination-Total": "21",
        "X-Pagination-Next": "20",
    }


def test_the_last_page_has_the_real_total_and_no_next() -> None:
    assert pagination_headers(found=15, offset=10, limit=10) == {"X-Pagination-Total": "15"}
    assert pagination_headers(found=20, offset=10, limit=10) == {"X-Pagination-Total": "20"}


def test_an_offset_past_the_end_reports_the_offset() -> None:
    assert pagination_headers(found=3, offset=10, limit=10) == {"X-Pagination-Total": "10"}
