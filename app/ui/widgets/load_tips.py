"""Tooltips of the load settings' GPU controls (kept apart so that load_settings.py stays one screenful
of layout and logic)."""

NO_BACKEND_TIP = (
    "The installed llama.cpp has no GPU backend, so everything runs on the CPU. "
    "Rebuild llama-cpp-python with GPU support to use these (see README: GPU support)."
)
GPU_TIP = "How many of the model's layers run on the GPU; the rest run on the CPU (more is faster)"
GPU_AUTO_TIP = "Put as many layers on the GPU as fit in its free memory"
