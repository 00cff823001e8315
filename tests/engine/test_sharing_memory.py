"""batch_params.sharing_shortfall: may the loaded model take a second sequence for the app's API server?"""

from __future__ import annotations

from app.engine.batch_params import sharing_shortfall
from app.engine.protocol import LoadOptions
from app.library.gguf_info import read_gguf_info
from app.library.memory_plan import plan_memory


def test_a_second_kv_cache_must_fit_the_free_memory_where_it_goes(tiny_model):
    header = read_gguf_info(tiny_model)
    options = LoadOptions(str(tiny_model), n_ctx=2048)
    kv = plan_memory(header, 2048).part("kv_cache").total
    assert sharing_shortfall(header, 2048, options, 0, free_ram=4 * kv) == ""
    why = sharing_shortfall(header, 2048, options, 0, free_ram=kv)  # only 80% of what is free may be planned
    assert why.startswith("API requests wait behind chat replies") and "of memory" in why
    # every layer on the GPU: the cache goes there, and the GPU's free memory decides
    assert sharing_shortfall(header, 2048, options, -1, free_ram=0, free_vram=4 * kv) == ""
    assert "of GPU memory" in sharing_shortfall(header, 2048, options, -1, free_ram=1 << 40, free_vram=kv // 2)
    # a q8_0 cache is about half as large: where f16 did not fit, it may
    q8 = LoadOptions(str(tiny_model), n_ctx=2048, kv_cache_type="q8_0")
    assert sharing_shortfall(header, 2048, q8, 0, free_ram=int(kv * 0.7)) == ""
