"""How Compare runs its columns, decided from the memory estimate and said in one sentence."""

from __future__ import annotations

from app.compare_plan import ENGINE_OVERHEAD_BYTES, HEADROOM, ColumnNeed, need_together, plan

GB = 1024**3


def test_a_file_used_by_several_columns_counts_once_but_each_column_has_its_own_cache_and_engine():
    a = ColumnNeed("/m/a.gguf", 4 * GB, GB // 2)
    again = ColumnNeed("/m/a.gguf", 4 * GB, GB)  # the same file with a longer context
    remote = ColumnNeed("remote:http://box:8080#m", 0, 0, remote=True)
    assert need_together([a, again, remote]) == 4 * GB + GB // 2 + GB + 2 * ENGINE_OVERHEAD_BYTES


def test_automatic_runs_together_when_it_fits_and_one_at_a_time_when_it_does_not():
    columns = [ColumnNeed("/m/a.gguf", 2 * GB, GB // 4), ColumnNeed("/m/b.gguf", 3 * GB, GB // 4)]
    need = need_together(columns)
    roomy = plan(columns, free_ram=int(need / HEADROOM) + GB)
    assert roomy.together and roomy.reason.startswith("Together, on separate engines")
    tight = plan(columns, free_ram=need)  # all of it would leave nothing for the OS and the app
    assert not tight.together and tight.reason.startswith("One at a time: not enough memory for both")
    assert "free" in tight.reason and tight.need_bytes == need
    # free VRAM counts too when layers are offloaded
    assert plan(columns, free_ram=GB, free_vram=int(need / HEADROOM) + GB).together


def test_the_users_choice_wins_and_a_risky_one_is_said():
    columns = [ColumnNeed("/m/a.gguf", 8 * GB, GB), ColumnNeed("/m/b.gguf", 8 * GB, GB)]
    forced = plan(columns, free_ram=4 * GB, choice="together")
    assert forced.together and "may not fit" in forced.reason
    assert not plan(columns, free_ram=400 * GB, choice="one_at_a_time").together
    assert "all 3" in plan(columns + [ColumnNeed("/m/c.gguf", GB, GB)], free_ram=GB).reason


def test_one_column_is_not_side_by_side():
    assert not plan([ColumnNeed("/m/a.gguf", GB, GB)], free_ram=100 * GB).together
