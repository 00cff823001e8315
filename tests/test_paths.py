from app import paths


def test_hearth_home_moves_every_location_under_one_folder(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HEARTH_HOME", str(home))
    for location in (paths.database_path(), paths.library_index_path(), paths.settings_path(),
                     paths.models_dir(), paths.downloads_state_dir(), paths.log_dir()):
        assert home in location.parents
    assert paths.models_dir().is_dir() and paths.downloads_state_dir().is_dir()


def test_read_only_callers_create_no_folders(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HEARTH_HOME", str(home))
    paths.settings_path(create=False)
    paths.models_dir(create=False)
    paths.downloads_state_dir(create=False)
    assert not home.exists()


def test_a_folder_that_cannot_be_made_is_not_an_error_here(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("HEARTH_HOME", str(blocker))
    assert paths.models_dir() == blocker / "data" / "models"  # writers report the failure when they write
