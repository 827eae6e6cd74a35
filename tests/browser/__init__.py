"""Helpers for tests/test_browser.py: serve a built book on 127.0.0.1 and read pages in Chromium."""
