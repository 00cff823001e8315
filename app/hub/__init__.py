"""The Hugging Face Hub: search GGUF repositories, list their files, download. No Qt."""
