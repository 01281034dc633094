"""A board's leaderboard page over HTTP on localhost, rebuilt from the match log on every request.

The server answers one request at a time and only on 127.0.0.1: it is a view for the person running the
tournament, not a public site.
"""

from __future__ import annotations

import contextlib
import http.server
from collections.abc import Callable

from arena.leaderboard import Board
from arena.report import render_board


def page_handler(board: str, refresh_s: int) -> type[http.server.BaseHTTPRequestHandler]:
    """A request handler that serves ``board``'s page (reloading itself every ``refresh_s``) at ``/`` and
    ``/index.html``; anything else is a 404."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path not in ("/", "/index.html"):
                self.send_error(404)
                return
            with Board(board) as store:
                body = render_board(store, refresh_s=refresh_s).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    return Page


def serve_board(board: str, *, port: int, refresh_s: int, on_listen: Callable[[int], None]) -> None:
    """Serve ``board``'s page on 127.0.0.1:``port`` (0: any free port) until Ctrl-C; ``on_listen`` gets the
    port once the server is bound."""
    with http.server.HTTPServer(("127.0.0.1", port), page_handler(board, refresh_s)) as server:
        on_listen(server.server_address[1])
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
