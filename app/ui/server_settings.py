"""Settings → remote endpoints and the local API server (a thin dialog; the work is in core modules)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.remote_endpoints import Endpoint, EndpointStore, remote_models
from app.server.background import BackgroundServer
from app.ui.tasks import BackgroundTasks


def served_name(engine) -> str:
    """The name the API gives the model the chat has loaded now (empty while none is)."""
    info = engine.info
    return Path(info.path).stem if info is not None else ""


class ApiServerHolder:
    """Keeps the API server running after the dialog closes (one per main window)."""

    def __init__(self) -> None:
        self.server: BackgroundServer | None = None
        self.port = 8080
        self.allowed_origins: list[str] = []  # web pages (origins) allowed to use the API besides its own address
        # told when the server starts (True) or stops: the app's engine then serves chats and API requests together
        # (EngineService.share_with_api); it answers "" or why it does not (kept in sharing_note)
        self.sharing: Callable[[bool], str] = lambda _on: ""
        self.sharing_note: Callable[[], str] = lambda: ""  # EngineService.sharing_note, read when shown

    def begin_stop(self) -> None:
        """Quitting: the server is told to stop; wait() then waits for it within the quit's budget."""
        if self.server is not None:
            self.server.begin_stop()

    def wait(self, seconds: float) -> bool:
        """True once the server (if any) has stopped, waiting at most `seconds`."""
        if self.server is None:
            return True
        if not self.server.wait(seconds):
            return False
        self.server = None
        return True


class ServerSettingsDialog(QDialog):
    def __init__(self, engine_client, holder: ApiServerHolder, store: EndpointStore, tasks: BackgroundTasks,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.setWindowTitle("Remote engines and API server")
        self.engine_client = engine_client
        self.holder = holder
        self._message = ""  # why the server is off, when it is not simply switched off
        self.store = store
        layout = QVBoxLayout(self)
        layout.addWidget(self._endpoints_box())
        layout.addWidget(self._server_box())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._refresh_server)
        self._timer.start(500)
        self._refresh_endpoints()
        self._refresh_server()

    # ---------------------------------------------------------- remote endpoints

    def _endpoints_box(self) -> QGroupBox:
        box = QGroupBox("Remote endpoints (OpenAI-compatible servers)")
        layout = QVBoxLayout(box)
        self.endpoint_list = QListWidget()
        layout.addWidget(self.endpoint_list)
        form = QFormLayout()
        self.name_edit = QLineEdit(placeholderText="workstation")
        self.url_edit = QLineEdit(placeholderText="http://192.168.1.20:8080")
        self.key_edit = QLineEdit(placeholderText="optional")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Name", self.name_edit)
        form.addRow("URL", self.url_edit)
        form.addRow("API key", self.key_edit)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self.add_endpoint)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_endpoint)
        self.check_button = QPushButton("List models")
        self.check_button.clicked.connect(self.check_endpoints)
        for button in (self.add_button, self.remove_button, self.check_button):
            row.addWidget(button)
        layout.addLayout(row)
        self.endpoint_status = QLabel(f"Keys are stored in {self.store.key_storage}.")
        self.endpoint_status.setWordWrap(True)
        self.endpoint_status.setTextFormat(Qt.TextFormat.PlainText)  # server errors and model names
        layout.addWidget(self.endpoint_status)
        return box

    def _refresh_endpoints(self) -> None:
        self.endpoints = self.store.endpoints()
        self.endpoint_list.clear()
        for endpoint in self.endpoints:
            self.endpoint_list.addItem(f"{endpoint.name} — {endpoint.url}")

    def add_endpoint(self) -> None:
        from app.engine.protocol import EngineError

        url = self.url_edit.text().strip()
        if not url:
            self.endpoint_status.setText("Give the server's URL, e.g. http://192.168.1.20:8080")
            return
        try:
            where = self.store.add(Endpoint(self.name_edit.text().strip(), url), self.key_edit.text().strip())
        except (EngineError, OSError) as exc:
            self.endpoint_status.setText(getattr(exc, "message", str(exc)))
            return
        self.key_edit.clear()
        self.endpoint_status.setText(f"Added. {where}")
        self._refresh_endpoints()

    def remove_endpoint(self) -> None:
        row = self.endpoint_list.currentRow()
        if 0 <= row < len(self.endpoints):
            self.store.remove(self.endpoints[row].url)
            self._refresh_endpoints()

    def check_endpoints(self) -> None:
        self.endpoint_status.setText("Asking the servers for their models…")

        def done(found) -> None:
            lines = [f"{e.name}: {', '.join(models) or 'no models'}" if not problem else f"{e.name}: {problem}"
                     for e, models, problem in found]
            self.endpoint_status.setText("\n".join(lines) or "No endpoints yet.")

        self.tasks.run(lambda: remote_models(self.store), done, lambda error: self.endpoint_status.setText(str(error)))

    # ---------------------------------------------------------- local API server

    def _server_box(self) -> QGroupBox:
        box = QGroupBox("Local API server (this computer only)")
        layout = QFormLayout(box)
        self.server_switch = QCheckBox("Answer the OpenAI-compatible API with the loaded model")
        self.server_switch.setChecked(self.holder.server is not None)
        self.server_switch.toggled.connect(self.toggle_server)
        self.port_spin = QSpinBox(minimum=1024, maximum=65535, value=self.holder.port)
        self.origins_edit = QLineEdit(" ".join(self.holder.allowed_origins),
                                      placeholderText="none, e.g. http://localhost:3000 (separate with spaces)")
        self.origins_edit.setToolTip("Web pages from these origins may use the API (each as scheme://host:port, "
                                     "or * for any page). Other programs on this computer are not affected.")
        self.origins_edit.setAccessibleName("Web pages allowed to use the API")
        self.url_edit_out = QLineEdit(readOnly=True)
        copy = QPushButton("Copy")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.url_edit_out.text()))
        url_row = QHBoxLayout()
        url_row.addWidget(self.url_edit_out)
        url_row.addWidget(copy)
        self.queue_label = QLabel()
        self.queue_label.setWordWrap(True)  # it may say why API requests wait behind chat replies
        note = QLabel("It answers with the model your chats use (switching models there switches it here); "
                      "API requests and chat replies are written together (the model is loaded with room for two "
                      "at once while the server is on), and stopping one never stops the other.")
        note.setWordWrap(True)
        layout.addRow(self.server_switch)
        layout.addRow(note)
        layout.addRow("Port", self.port_spin)
        layout.addRow("Web pages allowed", self.origins_edit)
        layout.addRow("URL", url_row)
        layout.addRow("Queue", self.queue_label)
        return box

    def toggle_server(self, on: bool) -> None:
        self._message = ""
        if not on:
            server, self.holder.server = self.holder.server, None
            self.holder.sharing(False)
            if server is not None:
                self.tasks.run(server.stop, lambda _r: self._refresh_server(), lambda _e: self._refresh_server())
            return
        info = self.engine_client.info
        if info is None:
            self._message = "Load a model first."
            self.queue_label.setText(self._message)
            self._switch_off_quietly()
            return
        self.holder.port = self.port_spin.value()
        self.holder.allowed_origins = self.origins_edit.text().replace(",", " ").split()
        try:
            server = BackgroundServer(self.engine_client, lambda: served_name(self.engine_client),
                                      port=self.holder.port, allowed_origins=self.holder.allowed_origins)
        except ValueError as exc:  # an origin that is not one, named in the message
            self._message = str(exc)
            self.queue_label.setText(self._message)
            self._switch_off_quietly()
            return
        self._message = "Starting…"
        self.queue_label.setText(self._message)

        def started(_result) -> None:
            self.holder.server = server
            self._message = ""
            self.holder.sharing(True)
            self._refresh_server()

        def failed(error: Exception) -> None:
            self._message = str(error)
            self.queue_label.setText(self._message)
            self._switch_off_quietly()

        self.tasks.run(server.start, started, failed)

    def _switch_off_quietly(self) -> None:
        self.server_switch.blockSignals(True)
        self.server_switch.setChecked(False)
        self.server_switch.blockSignals(False)

    def _refresh_server(self) -> None:
        server = self.holder.server
        self.port_spin.setEnabled(server is None)
        self.origins_edit.setEnabled(server is None)
        if server is None or not server.running:
            self.url_edit_out.setText("")
            self.queue_label.setText(self._message or "Off")
            return
        self.url_edit_out.setText(server.url)
        state = server.state
        n = state.active or 1
        busy = f"answering {n} request{'' if n == 1 else 's'}" if state.busy else "idle"
        note = f". {why}." if (why := self.holder.sharing_note()) else ""
        self.queue_label.setText(f"{busy}, {state.waiting} waiting{note}")
