#!/usr/bin/env python3
"""The bare WebKitGTK view of tests/bench/heavy-page.sh: one window, one WebView, nothing else.

WebKitGTK's defaults (cache model "web browser", memory cache, HTTP disk cache) with its data and
cache folders in DIR (fresh for each run, so every load is cold), no proxy, no content filter, the
WEBKIT_DISABLE_COMPOSITING_MODE it inherits. Loads URL and stays until killed; the page reports its
own timing to the bench server.

    bare-view.py DIR URL
"""
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import Gtk, WebKit2  # noqa: E402


def main():
    data_dir, url = sys.argv[1], sys.argv[2]
    manager = WebKit2.WebsiteDataManager(base_data_directory=data_dir, base_cache_directory=data_dir + "/cache")
    context = WebKit2.WebContext(website_data_manager=manager)
    view = WebKit2.WebView(web_context=context)
    window = Gtk.Window(title="bare WebKitGTK")
    window.set_default_size(1280, 752)
    window.add(view)
    window.connect("destroy", Gtk.main_quit)
    window.show_all()
    view.load_uri(url)
    Gtk.main()


if __name__ == "__main__":
    main()
