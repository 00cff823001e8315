from PySide6.QtCore import Qt

from app.ui.widgets.table_model import TableModel, make_table


def test_rows_show_their_strings_and_keep_the_object_behind_them(qtmodeltester):
    model = TableModel(["Name", "Size"])
    model.set_rows([(["a.gguf", "1 GB"], {"id": 1}), (["b.gguf", "2 GB"], {"id": 2})])
    qtmodeltester.check(model)
    assert model.rowCount() == 2 and model.columnCount() == 2
    assert model.data(model.index(1, 0)) == "b.gguf"
    assert model.item(1) == {"id": 2}
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Size"


def test_tooltips_escape_names_that_look_like_html(qtbot):
    model = TableModel(["Name"])
    model.set_rows([(["<img src=x>"], None)])
    tip = model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert "<img" not in tip and "&lt;img" in tip


def test_the_table_selects_whole_rows_and_is_read_only(qtbot):
    model = TableModel(["Name", "Size"])
    table = make_table(model, "Models", stretch_column=0)
    qtbot.addWidget(table)
    assert table.accessibleName() == "Models"
    assert table.selectionBehavior() == table.SelectionBehavior.SelectRows
    assert table.editTriggers() == table.EditTrigger.NoEditTriggers
