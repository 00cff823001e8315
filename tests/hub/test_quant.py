from app.hub.quant import GGUFChoice, HubFile, group_gguf_files, quant_of, quant_rank


def test_the_quantization_is_read_from_real_world_file_names():
    assert quant_of("Llama-3.2-1B-Instruct-Q4_K_M.gguf") == "Q4_K_M"
    assert quant_of("qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf") == "Q4_K_M"
    assert quant_of("SmolLM2-135M-Instruct.Q4_1.gguf") == "Q4_1"
    assert quant_of("gemma-3-270m-it-IQ4_XS.gguf") == "IQ4_XS"
    assert quant_of("model-fp16.gguf") == "F16"
    assert quant_of("Q8_0/model.gguf") == "unknown"  # only the file name counts
    assert quant_of("tinyllama.gguf") == "unknown"


def test_quantizations_rank_from_smallest_to_largest_and_unknown_last():
    assert quant_rank("Q2_K") < quant_rank("Q4_K_M") < quant_rank("Q8_0") < quant_rank("F16")
    assert quant_rank("mystery") > quant_rank("F32")


def test_split_parts_group_into_one_choice_and_projectors_are_left_out():
    files = [
        HubFile("big-Q8_0-00002-of-00002.gguf", 200, "b"),
        HubFile("big-Q8_0-00001-of-00002.gguf", 300, "a"),
        HubFile("small-Q4_K_M.gguf", 100, "c"),
        HubFile("mmproj-model-f16.gguf", 50, "d"),
        HubFile("README.md", 1, ""),
    ]
    choices = group_gguf_files(files)
    assert [c.quant for c in choices] == ["Q4_K_M", "Q8_0"]
    split: GGUFChoice = choices[1]
    assert split.first_path == "big-Q8_0-00001-of-00002.gguf"
    assert [p.path for p in split.parts] == ["big-Q8_0-00001-of-00002.gguf", "big-Q8_0-00002-of-00002.gguf"]
    assert split.size == 500


def test_each_choice_lists_the_repositorys_projectors_the_likeliest_first():
    files = [
        HubFile("SmolVLM-256M-Instruct-Q8_0.gguf", 300, "a"),
        HubFile("mmproj-SmolVLM-256M-Instruct-Q8_0.gguf", 100, "b"),
        HubFile("mmproj-SmolVLM-256M-Instruct-f16.gguf", 190, "c"),
        HubFile("other/mmproj-SmolVLM-256M-Instruct-Q8_0.gguf", 100, "d"),
    ]
    (choice,) = group_gguf_files(files)
    assert [f.path for f in choice.projectors] == ["mmproj-SmolVLM-256M-Instruct-Q8_0.gguf",
                                                   "mmproj-SmolVLM-256M-Instruct-f16.gguf",
                                                   "other/mmproj-SmolVLM-256M-Instruct-Q8_0.gguf"]
    (text,) = group_gguf_files(files[:1])
    assert text.projectors == ()
