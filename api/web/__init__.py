"""The web pages of the trading game: the lobby (``/``), a participant's page
(``/play/{session_id}``) and the instructor's console (``/console/{session_id}``), served by
the API's own app (:func:`install_web`). The pages are plain HTML and JavaScript (no build
step, nothing fetched from elsewhere) that call the JSON API under ``/api/v1`` with the bearer
token kept in the browser tab's ``sessionStorage``."""

from api.web.router import install_web

__all__ = ["install_web"]
