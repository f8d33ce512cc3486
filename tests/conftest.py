"""Fixtures shared by the unit tests."""

import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for a module: tiny networks stall on spinning threads of a shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def building_book(monkeypatch):
    """Displays of explorers as while the book is built: with their static fallback."""
    from sgdlab.book import BUILD_ENV

    monkeypatch.setenv(BUILD_ENV, "1")
